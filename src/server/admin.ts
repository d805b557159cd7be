/** The server's own namespace, `/_offload/...`: health now; stats, metrics and the admin API later. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export function createAdminHandler(state: { ready: () => boolean }) {
  return (req: IncomingMessage, res: ServerResponse, path: string): void => {
    if (path === '/_offload/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      const ready = state.ready();
      json(res, ready ? 200 : 503, { status: ready ? 'ok' : 'stopping' }, req.method === 'HEAD');
      return;
    }
    json(res, 404, { error: 'not found', path }, req.method === 'HEAD');
  };
}

function json(res: ServerResponse, status: number, body: unknown, headOnly: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(headOnly ? undefined : text);
}
