/**
 * Starts the whole local stack once for the run (`python -m infra.local.stack`, as `make run` does)
 * on free ports, with its own state folder under test-results/, so it never meets a developer's
 * `make run`. Waits until the panel answers and the API is healthy through it; the function it
 * returns stops the stack's process group (SIGTERM, the stack's own clean shutdown, then SIGKILL),
 * then makes sure every process of the stack is gone (its children run in their own sessions; each
 * carries the state folder in its environment) and its ports are free, failing the run otherwise.
 * Also prepares uploadable photos: the sample photos in tests/data/photos are 348x348, below the
 * 800x600 minimum, so they are upscaled into the state folder (the originals stay where they are).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const STATE = resolve(import.meta.dirname, '..', 'test-results', 'stack');
const PYTHON = join(REPO, '.venv', 'bin', 'python');

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

async function waitFor(what: string, seconds: number, stack: ChildProcess, ready: () => Promise<boolean>) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (stack.exitCode !== null) throw new Error(`the stack exited (${stack.exitCode}) before ${what}:\n${tail()}`);
    if (await ready().catch(() => false)) return;
    await new Promise((wake) => setTimeout(wake, 300));
  }
  throw new Error(`${what} not reached within ${seconds} s:\n${tail()}`);
}

/** Every running process of this stack, by the state folder in its environment (Linux /proc). */
function stackProcesses(): number[] {
  if (!existsSync('/proc')) return [];
  const marker = `INTELLIPOST_STATE_DIR=${STATE}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3))) continue; // exited
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

function tail(): string {
  const console = join(STATE, 'console.log');
  return existsSync(console) ? readFileSync(console, 'utf8').split('\n').slice(-40).join('\n') : '';
}

function preparePhotos(folder: string): void {
  // tests/photos.py is the one place that knows how the sample photos are made uploadable.
  const script = `
import sys
from pathlib import Path
from tests.photos import grocery_photo
out = Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
for product, shots in {"Valio-Vanilla-Yoghurt": ("001", "002", "003"), "Oatly-Oat-Milk": ("001", "002", "003")}.items():
    for shot in shots:
        (out / f"{product}_{shot}.jpg").write_bytes(grocery_photo(product, shot))
`;
  const made = spawnSync(PYTHON, ['-c', script, folder], { cwd: REPO, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`could not prepare the photos: ${made.stderr}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`make e2e-browser\` from the repository root`);
  if (!existsSync(join(import.meta.dirname, '..', 'build', 'index.html')))
    throw new Error('web/build is missing: run `make web` (or `npm run build`) first');
  rmSync(STATE, { recursive: true, force: true });
  mkdirSync(STATE, { recursive: true });
  preparePhotos(join(STATE, 'photos'));

  const [api, emulator, sandbox, panel] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    API_PORT: String(api),
    EMULATOR_PORT: String(emulator),
    SANDBOX_PORT: String(sandbox),
    PANEL_PORT: String(panel),
    INTELLIPOST_STATE_DIR: STATE,
    SNAPSHOT_EVERY_SECONDS: '3600'
  };
  delete env.AWS_ENDPOINT_URL; // always our own emulator, never a developer's
  delete env.PANEL;
  const console = openSync(join(STATE, 'console.log'), 'a');
  const stack = spawn(PYTHON, ['-m', 'infra.local.stack'], {
    cwd: REPO,
    env,
    detached: true, // its own process group, stopped as a whole
    stdio: ['ignore', console, console]
  });

  // Should the runner itself die (Ctrl-C twice, a crash), the stack and its children go with it.
  const orphanGuard = () => {
    if (stack.exitCode === null && stack.pid !== undefined) kill(-stack.pid, 'SIGKILL');
    for (const pid of stackProcesses()) kill(pid, 'SIGKILL');
  };
  process.once('exit', orphanGuard);

  const panelUrl = `http://127.0.0.1:${panel}`;
  const stop = async () => {
    if (stack.exitCode === null && stack.pid !== undefined) {
      const exited = new Promise((done) => stack.once('exit', done));
      kill(-stack.pid, 'SIGTERM');
      const timer = setTimeout(() => stack.exitCode === null && kill(-stack.pid!, 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    // The stack's children die with it (infra/local/processes.py); wait for that, then make sure.
    const deadline = Date.now() + 20_000;
    while (stackProcesses().length > 0 && Date.now() < deadline) await new Promise((wake) => setTimeout(wake, 200));
    const left = stackProcesses();
    for (const pid of left) kill(pid, 'SIGKILL');
    const bound = [];
    for (const port of [api, emulator, sandbox, panel]) if (!(await portIsFree(port))) bound.push(port);
    if (left.length > 0 || bound.length > 0)
      throw new Error(`the stack left processes ${left.join(', ') || 'none'} (killed now) and ports ${bound.join(', ') || 'none'} bound`);
  };
  try {
    await waitFor('the stack to start', 120, stack, async () => tail().includes('Press Ctrl-C'));
    if (!tail().includes(`Panel: ${panelUrl}`)) throw new Error(`the stack did not serve the panel:\n${tail()}`);
    await waitFor('the API through the panel', 30, stack, async () => {
      const health = await fetch(`${panelUrl}/api/v1/health`);
      return health.ok;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  process.env.PANEL_URL = panelUrl;
  process.env.SANDBOX_URL = `http://127.0.0.1:${sandbox}`;
  process.env.E2E_PHOTOS = join(STATE, 'photos');
  return stop;
}
