/**
 * Process entry of the sinkhole (see serve.ts for the line protocol): `node process.js '<json config>'`, started
 * by the session inside the sink's network namespace. Under tsx it runs as `node --import tsx process.ts`.
 */
import { sinkholeMain } from './serve.js';

process.exit(await sinkholeMain(process.argv.slice(2)));
