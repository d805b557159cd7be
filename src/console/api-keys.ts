/** `/keys`: list, create (the secret is shown once, in the answer) and delete access keys; root only, but `/keys/me`. */
import { badInput, ConsoleError, notAllowed } from './errors.js';
import type { ApiAnswer, Route, SignedInCall } from './deps.js';
import { readJson, stringField } from './http.js';
import { KEY_ACCESS, type Credential, type KeyAccess } from '../storage/keys.js';

function requireRootSession(call: SignedInCall): void {
  if (!call.session.isRoot) throw notAllowed('This key is not allowed to manage access keys: only the root key is.');
}

const describeKey = (k: Credential) => ({
  accessKeyId: k.accessKeyId,
  name: k.displayName,
  scope: k.scope ?? { access: 'all' },
  created: k.createdAt === undefined ? undefined : new Date(k.createdAt).toISOString(),
});

async function listKeys(call: SignedInCall): Promise<ApiAnswer> {
  requireRootSession(call);
  // Awaited: a shared key store (PostgreSQL) answers changes and listings asynchronously.
  return { body: { keys: (await call.deps.keys.listKeys()).map(describeKey) } };
}

async function me(call: SignedInCall): Promise<ApiAnswer> {
  return { body: { ...describeKey(call.session.credential), isRoot: call.session.isRoot } };
}

async function createKey(call: SignedInCall): Promise<ApiAnswer> {
  requireRootSession(call);
  const body = await readJson(call.req);
  const name = stringField(body, 'name', { max: 128 })!.trim();
  if (name === '') throw badInput('Give the key a name (what or who uses it).');
  const bucket = stringField(body, 'bucket', { optional: true, max: 63 }) || undefined;
  const access = (stringField(body, 'access', { optional: true, max: 16 }) ?? 'all') as KeyAccess;
  if (!KEY_ACCESS.includes(access)) throw badInput(`"access" is one of ${KEY_ACCESS.join(', ')}.`);
  if (bucket !== undefined && !call.deps.store.getBucket(bucket)) throw new ConsoleError(404, 'NoSuchBucket', `There is no bucket named ${bucket}.`);
  const key = await call.deps.keys.createKey({ name, scope: { bucket, access } });
  return { status: 201, body: { ...describeKey(key), secretAccessKey: key.secretAccessKey } };
}

async function deleteKey(call: SignedInCall): Promise<ApiAnswer> {
  requireRootSession(call);
  const id = call.params.id!;
  if (id === call.deps.rootAccessKeyId) throw new ConsoleError(409, 'InvalidRequest', 'The root key cannot be deleted here (it is set by the server\'s configuration).');
  if (!(await call.deps.keys.deleteKey(id))) throw new ConsoleError(404, 'NoSuchKey', `There is no access key ${id}.`);
  await call.deps.sessions.endAllFor(id);
  return { body: { deleted: id } };
}

export const keyRoutes: Route[] = [
  { method: 'GET', path: '/keys', handler: listKeys },
  { method: 'GET', path: '/keys/me', handler: me },
  { method: 'POST', path: '/keys', handler: createKey },
  { method: 'DELETE', path: '/keys/:id', handler: deleteKey },
];
