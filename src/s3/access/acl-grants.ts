/** ACLs in their three wire forms: canned (`x-amz-acl`), grant headers (`x-amz-grant-*`), and AccessControlPolicy XML. */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../../errors/s3-error.js';
import { header } from '../headers.js';
import { child, children, childText, doc, el, escapeXml, parseXml, text } from '../xml.js';
import type { Acl, CannedAcl, Grant } from '../../storage/types.js';

const CANNED: readonly CannedAcl[] = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'bucket-owner-read', 'bucket-owner-full-control', 'aws-exec-read', 'log-delivery-write'];
const PERMISSIONS: readonly Grant['permission'][] = ['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'];
const GRANT_HEADERS: Record<string, Grant['permission']> = {
  'x-amz-grant-full-control': 'FULL_CONTROL',
  'x-amz-grant-read': 'READ',
  'x-amz-grant-write': 'WRITE',
  'x-amz-grant-read-acp': 'READ_ACP',
  'x-amz-grant-write-acp': 'WRITE_ACP',
};

/** The ACL a request's headers ask for, or undefined when it names none. */
export function aclFromHeaders(headers: IncomingHttpHeaders): Acl | undefined {
  const canned = header(headers, 'x-amz-acl');
  const grants: Grant[] = [];
  for (const [name, permission] of Object.entries(GRANT_HEADERS)) {
    const value = header(headers, name);
    if (value !== undefined) grants.push(...parseGrantHeader(value, permission));
  }
  if (canned !== undefined && grants.length > 0) throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned !== undefined) {
    const value = canned.trim() as CannedAcl;
    if (!CANNED.includes(value)) throw new S3Error('InvalidArgument', undefined, { ArgumentName: 'x-amz-acl', ArgumentValue: canned });
    return { canned: value };
  }
  return grants.length > 0 ? { grants } : undefined;
}

/** `id="..."`, `uri="..."` or `emailAddress="..."`, comma-separated. */
function parseGrantHeader(value: string, permission: Grant['permission']): Grant[] {
  const grants: Grant[] = [];
  const re = /\s*(id|uri|emailAddress)\s*=\s*"?([^",]*)"?\s*(,|$)/giy;
  let consumed = 0;
  for (let m = re.exec(value); m && m[0] !== ''; m = re.exec(value)) {
    consumed = re.lastIndex;
    const kind = m[1]!.toLowerCase();
    const v = m[2]!.trim();
    if (kind === 'id') grants.push({ grantee: { type: 'CanonicalUser', id: v }, permission });
    else if (kind === 'uri') grants.push({ grantee: { type: 'Group', uri: v }, permission });
    else throw new S3Error('UnresolvableGrantByEmailAddress');
  }
  if (consumed !== value.length || grants.length === 0) throw new S3Error('InvalidArgument', `Invalid grant header value: ${value}`);
  return grants;
}

export function parseAclXml(body: string): Grant[] {
  const root = child(parseXml(body, 'MalformedACLError'), 'AccessControlPolicy');
  if (!root) throw new S3Error('MalformedACLError');
  const list = child(root, 'AccessControlList');
  return children(list, 'Grant').map((g) => {
    const grantee = child(g, 'Grantee');
    const permission = childText(g, 'Permission') as Grant['permission'] | undefined;
    if (!grantee || !permission || !PERMISSIONS.includes(permission)) throw new S3Error('MalformedACLError');
    const type = typeof grantee['@type'] === 'string' ? grantee['@type'] : undefined;
    const id = childText(grantee, 'ID');
    const uri = childText(grantee, 'URI');
    if (childText(grantee, 'EmailAddress') !== undefined) throw new S3Error('UnresolvableGrantByEmailAddress');
    if ((type === 'CanonicalUser' || (!type && id)) && id) return { grantee: { type: 'CanonicalUser', id }, permission };
    if ((type === 'Group' || (!type && uri)) && uri) return { grantee: { type: 'Group', uri }, permission };
    throw new S3Error('MalformedACLError');
  });
}

export function aclXml(owner: { id: string; displayName: string }, grants: Grant[], displayName: (id: string) => string): string {
  const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
  return doc(
    'AccessControlPolicy',
    el('Owner', text('ID', owner.id), text('DisplayName', owner.displayName)),
    el(
      'AccessControlList',
      // Group grants first, then users (stable otherwise): the order clients and suites compare against.
      [...grants].sort((a, b) => (a.grantee.type === b.grantee.type ? 0 : a.grantee.type === 'Group' ? -1 : 1)).map((g) => {
        const grantee =
          g.grantee.type === 'CanonicalUser'
            ? `<Grantee ${xsi} xsi:type="CanonicalUser">${text('ID', g.grantee.id)}${text('DisplayName', displayName(g.grantee.id))}</Grantee>`
            : `<Grantee ${xsi} xsi:type="Group"><URI>${escapeXml(g.grantee.uri)}</URI></Grantee>`;
        return el('Grant', grantee, text('Permission', g.permission));
      }),
    ),
  );
}
