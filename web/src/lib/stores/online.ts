/** Is the browser online? Said in a banner, so nothing fails silently while the network is down. */
import { readable } from 'svelte/store';

export const online = readable(typeof navigator === 'undefined' ? true : navigator.onLine, (set) => {
  const up = () => set(true);
  const down = () => set(false);
  window.addEventListener('online', up);
  window.addEventListener('offline', down);
  return () => {
    window.removeEventListener('online', up);
    window.removeEventListener('offline', down);
  };
});
