/**
 * A second Detonate process for the private store's lease tests: opens the store at the root given as the first
 * argument, says `ready`, and holds its lease until its stdin closes; then closes the store and says whether that
 * stopped the server (`closed true|false`). Killed with SIGKILL, it says nothing more.
 */
import { openStore } from '../../src/store/index.js';

const store = await openStore({ kind: 'private', root: process.argv[2]! }, { poolSize: 1 });
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void store.close().then((stopped) => {
    process.stdout.write(`closed ${stopped}\n`);
    process.exit(0);
  });
});
