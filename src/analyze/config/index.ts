import type { ImageCheck } from '../image-check.js';
import { curlPipeShellCheck } from './curl-pipe-shell.js';
import { imageSecretsCheck } from './image-secrets.js';
import { rootUserCheck } from './root-user.js';
import { sensitivePortCheck } from './sensitive-port.js';
import { setuidCheck } from './setuid.js';

/** The image configuration checks: user, history commands, exposed ports, setuid files, secrets in ENV and history. */
export const configChecks: readonly ImageCheck[] = [rootUserCheck, curlPipeShellCheck, sensitivePortCheck, setuidCheck, imageSecretsCheck];
