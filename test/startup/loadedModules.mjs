// Test helper (node --import): at exit, prints to stderr one line `HIL_LOADED <url>` per module
// this process imported, reported by a module `load` hook (node:module register, documented API).
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const urls = [];
port1.on('message', (url) => urls.push(url));
port1.unref();
register('./loadedModulesHooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
process.on('exit', () => {
  for (const u of urls) process.stderr.write(`HIL_LOADED ${u}\n`);
});
