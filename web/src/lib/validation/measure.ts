/**
 * A chosen photo's width and height, read in the browser before anything is uploaded (so a photo
 * that is too small is said at once, with the API's own message). createImageBitmap where it
 * exists, else an <img>; null when the browser cannot decode the file (damaged, or not an image).
 */
export async function measure(file: Blob, url: string): Promise<{ width: number; height: number } | null> {
  if (typeof createImageBitmap === 'function') {
    try {
      const bitmap = await createImageBitmap(file);
      const size = { width: bitmap.width, height: bitmap.height };
      bitmap.close();
      return size;
    } catch {
      // Some browsers refuse large images here but decode them in an <img>: try that too.
    }
  }
  return new Promise((resolve) => {
    const image = new Image();
    image.onload = () => resolve({ width: image.naturalWidth, height: image.naturalHeight });
    image.onerror = () => resolve(null);
    image.src = url;
  });
}
