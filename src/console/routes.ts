/** The console API's table: method, path under /_offload/console/api, handler, and whether a session is needed. */
import type { ApiAnswer, ApiCall, Route } from './deps.js';
import { currentSession, signIn, signOut } from './api-session.js';
import { createBucket, deleteBucket, listBuckets, setPublic } from './api-buckets.js';
import { download, getObject, listObjects } from './api-objects.js';
import { deleteObjects, patchObject, renameObject } from './api-object-edit.js';
import { uploadRoutes } from './api-uploads.js';
import { keyRoutes } from './api-keys.js';
import { settingsRoutes } from './api-settings.js';
import { statsRoutes } from './api-stats.js';
import { info } from './api-info.js';

export const ROUTES: Route[] = [
  { method: 'POST', path: '/session', open: true, handler: signIn as (call: ApiCall) => Promise<ApiAnswer> },
  { method: 'GET', path: '/session', handler: currentSession },
  { method: 'DELETE', path: '/session', handler: signOut },
  { method: 'GET', path: '/buckets', handler: listBuckets },
  { method: 'POST', path: '/buckets', handler: createBucket },
  { method: 'DELETE', path: '/buckets/:bucket', handler: deleteBucket },
  { method: 'PUT', path: '/buckets/:bucket/public', handler: setPublic },
  { method: 'GET', path: '/buckets/:bucket/objects', handler: listObjects },
  { method: 'GET', path: '/buckets/:bucket/object', handler: getObject },
  { method: 'PATCH', path: '/buckets/:bucket/object', handler: patchObject },
  { method: 'GET', path: '/buckets/:bucket/download', handler: download },
  { method: 'POST', path: '/buckets/:bucket/rename', handler: renameObject },
  { method: 'POST', path: '/buckets/:bucket/delete', handler: deleteObjects },
  ...uploadRoutes,
  ...settingsRoutes,
  ...keyRoutes,
  ...statsRoutes,
  { method: 'GET', path: '/info', handler: info },
];

/** The route for a method and path, with its decoded parameters; `methods` lists the path's methods when only the method is wrong. */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | { methods: string[] } | undefined {
  const segments = path.split('/').slice(1);
  const methods: string[] = [];
  for (const route of ROUTES) {
    const pattern = route.path.split('/').slice(1);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const want = pattern[i]!;
      const got = segments[i]!;
      if (want.startsWith(':')) {
        const value = decodeSegment(got);
        if (value === undefined || value === '') ok = false;
        else params[want.slice(1)] = value;
      } else ok = want === got;
    }
    if (!ok) continue;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
    methods.push(route.method);
  }
  return methods.length > 0 ? { methods } : undefined;
}

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
