import type { CommandModule } from 'yargs';
import { flashCommand } from './flash.js';
import { imageCommand } from './image.js';
import { runCommand } from './run.js';
import { simCommand } from './sim.js';
import { devicesCommand } from './devices.js';
import { execCommand } from './exec.js';
import { replCommand } from './repl.js';
import { faultProxyCommand } from './faultProxy.js';
import { reportCommand } from './report.js';
import { deviceCommand } from './device.js';
import { historyCommand } from './history.js';
import { leaseCommand } from './lease.js';

/** Every `hil` command. Add a module here when adding a command. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  imageCommand,
  flashCommand,
  runCommand,
  simCommand,
  devicesCommand,
  execCommand,
  replCommand,
  faultProxyCommand,
  reportCommand,
  deviceCommand,
  historyCommand,
  leaseCommand,
];
