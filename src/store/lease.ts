/**
 * Sharing the private cluster between Detonate processes: each one holds a lease while it uses the store, the
 * server is started by whoever finds it down, and stopped by the last one to leave (unless `store start` pinned it).
 *
 * A lease is a session-level advisory lock held shared on a connection of its own. The kernel closes a killed
 * process's socket and the server then drops its session and its lock, so a crashed process never holds the store
 * up, and no file has to be checked for a live owner. Leaving: the process asks for the same lock exclusively; it
 * gets it only when no other session holds it, and while it holds it no newcomer can take a lease, so it may stop
 * the server. A newcomer waiting meanwhile sees its session end, and starts the server again (the retry below).
 */
import pg from 'pg';
import { StoreError } from './errors.js';
import { LEASE_LOCK, LOCK_SPACE } from './locks.js';
import type { PrivateCluster } from './cluster.js';
import { MAX_STORE_START_FAILURES, STORE_LEASE_ACQUIRE_TIMEOUT_MS, STORE_LEASE_CONNECT_TIMEOUT_MS } from './limits.js';

/** Errors meaning "no server (yet, or any more)": the socket is missing or refuses, or the session was ended. */
function serverGone(err: unknown): 'down' | 'transient' | undefined {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return 'down';
  // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or shutting down)
  if (e.code === '57P01' || e.code === '57P02' || e.code === '57P03') return 'transient';
  if (/Connection terminated|ECONNRESET|EPIPE/.test(e.message ?? '')) return 'transient';
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ClusterLease {
  private lost = false;

  private constructor(
    readonly cluster: PrivateCluster,
    private readonly client: pg.Client,
    /** This process started the server. */
    readonly startedServer: boolean,
  ) {
    client.on('error', () => {
      this.lost = true;
    });
  }

  /** Makes the cluster if needed, starts its server if needed, and takes a lease on it. */
  static async acquire(cluster: PrivateCluster): Promise<ClusterLease> {
    await cluster.ensureInitialized();
    const deadline = Date.now() + STORE_LEASE_ACQUIRE_TIMEOUT_MS;
    let startFailures = 0;
    let started = false;
    for (let attempt = 0; ; attempt++) {
      const client = new pg.Client({ ...cluster.connection(), application_name: 'detonate', connectionTimeoutMillis: STORE_LEASE_CONNECT_TIMEOUT_MS });
      client.on('error', () => {}); // a session ended while connecting surfaces as the rejected call below
      try {
        await client.connect();
        await client.query('SELECT pg_advisory_lock_shared($1, $2)', [LOCK_SPACE, LEASE_LOCK]);
        client.removeAllListeners('error');
        return new ClusterLease(cluster, client, started);
      } catch (err) {
        await client.end().catch(() => {});
        const gone = serverGone(err);
        if (!gone) throw connectError(cluster, err);
        if (Date.now() > deadline) throw new StoreError(`the private store's server at ${cluster.socketDir} did not come up in ${STORE_LEASE_ACQUIRE_TIMEOUT_MS / 1000} s`, `see ${cluster.logFile}`);
        if (gone === 'down') {
          try {
            await cluster.start();
            started = true;
            continue;
          } catch (startErr) {
            // Another process may be starting or stopping it right now: only a start that keeps failing with
            // no server in sight is this process's error to report.
            if (!(await cluster.running()) && ++startFailures >= MAX_STORE_START_FAILURES) throw startErr;
          }
        }
        await sleep(Math.min(50 * 2 ** Math.min(attempt, 5), 1000));
      }
    }
  }

  /**
   * Gives the lease back. When no other process holds one and the server is not pinned, stops the server.
   * True when this call stopped it.
   */
  async release(): Promise<boolean> {
    let stopped = false;
    try {
      if (!this.lost) {
        const { rows } = await this.client.query<{ alone: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS alone', [LOCK_SPACE, LEASE_LOCK]);
        if (rows[0]?.alone && !this.cluster.pinned()) {
          this.client.on('error', () => {}); // the stop ends this session too
          stopped = await this.cluster.stop();
        }
      }
    } finally {
      await this.client.end().catch(() => {});
    }
    return stopped;
  }
}

function connectError(cluster: PrivateCluster, err: unknown): Error {
  const e = err as { code?: string; message?: string };
  // 28000 invalid_authorization_specification: peer authentication refused this OS user
  if (e.code === '28000') {
    return new StoreError(
      `the private store in ${cluster.root} refused this user: ${e.message ?? ''}`,
      'it admits the user who made it (and the server\'s user): run Detonate as that user, or set DETONATE_DATA_DIR to a store of your own',
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
