/** What mcp_broker does: look at the pool, close one entry, stop the broker and wait until it is gone. */
import { ModuleFailure } from './errors';
import { brokerRequest } from './broker_client';
import { processRunning } from './mcp/process_tree';
import { poolKey, serverFromParams } from './server_definition';

export interface BrokerStatus {
  broker: { pid: number; version: string; uptime_s: number; socket: string; log: string };
  connections: ({ key: string } & Record<string, unknown>)[];
}

const CONTROL_PATIENCE_MS = 30_000;

export async function brokerStatus(): Promise<BrokerStatus | undefined> {
  const s = (await brokerRequest('status', {}, { start: false, patienceMs: CONTROL_PATIENCE_MS })) as any;
  if (!s) return undefined;
  const { connections, ...broker } = s;
  return { broker, connections };
}

/** Close the pooled entry for the task's server definition. */
export async function closePooled(params: Record<string, any>, status: BrokerStatus | undefined, checkMode: boolean) {
  const server = serverFromParams(params);
  const matched = poolKey(server).slice(0, 12);
  if (!status || !status.connections.some((c) => c.key === matched)) return { closed: 0, matched };
  if (checkMode) return { closed: 1, matched };
  const reply = (await brokerRequest('close', { server }, { start: false, patienceMs: CONTROL_PATIENCE_MS })) as { closed: boolean } | undefined;
  return { closed: reply?.closed ? 1 : 0, matched };
}

/** Stop the broker (it closes every server first) and wait until its process has exited (a zombie has: pid 1 of a container may never reap it). */
export async function stopBroker(pid: number): Promise<number> {
  const reply = (await brokerRequest('stop', {}, { start: false, patienceMs: CONTROL_PATIENCE_MS })) as { closed: number } | undefined;
  const deadline = Date.now() + 10_000;
  while (processRunning(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  if (processRunning(pid)) throw new ModuleFailure(`the broker (pid ${pid}) did not exit within 10 s after closing its connections`);
  return reply?.closed ?? 0;
}
