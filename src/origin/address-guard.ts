/**
 * The SSRF guard. An origin URL is a request the server makes on a configurer's behalf, so it
 * must not reach what only the server can reach: loopback, private and link-local networks,
 * cloud metadata endpoints, or the server's own listeners. Checked when an origin is configured
 * and again at every connect, on every address the host name resolves to (DNS can change).
 */
import { BlockList, isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';

/** Never allowed by a bucket's configuration, only by naming them in the server's flag. */
const METADATA = ['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200'];

function privateRanges(): BlockList {
  const list = new BlockList();
  for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) list.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of [['::', 128], ['::1', 128], ['fe80::', 10], ['fc00::', 7], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64]] as const) list.addSubnet(net, bits, 'ipv6');
  return list;
}

const PRIVATE = privateRanges();

/** An IPv4 address inside an IPv6 one (::ffff:a.b.c.d, NAT64 64:ff9b::/96), which reaches that IPv4 host. */
export function embeddedIPv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export interface GuardOptions {
  /** `--allow-private-origins`: addresses or CIDRs (or "private" for every private range) the server may fetch from. */
  serverAllow?: string[];
  /** The server's own listeners, never an origin (a loop), whatever is allowed. */
  ownListeners?: () => { host: string; port: number }[];
}

export class AddressGuard {
  private readonly serverAllow: BlockList;
  private readonly allowAllPrivate: boolean;

  constructor(private readonly options: GuardOptions = {}) {
    this.serverAllow = toBlockList(options.serverAllow?.filter((a) => a !== 'private') ?? []);
    this.allowAllPrivate = options.serverAllow?.includes('private') ?? false;
  }

  /** Why `address:port` may not be an origin's, or undefined when it may. `configAllow` is the bucket's own list. */
  refusal(address: string, port: number, configAllow: string[] = []): string | undefined {
    const v4 = embeddedIPv4(address);
    const ip = v4 ?? address;
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(ip) === 0) return `"${address}" is not an IP address`;
    if (this.isOwnListener(ip, family, port)) return `${address}:${port} is this server's own listener`;
    if (this.serverAllow.check(ip, family)) return undefined;
    const metadata = METADATA.includes(ip.toLowerCase());
    if (metadata) return `${address} is a cloud metadata address (allowed only by naming it in --allow-private-origins)`;
    if (!PRIVATE.check(ip, family) && !this.isOwnInterface(ip)) return undefined;
    if (this.allowAllPrivate && !isLinkLocal(ip, family)) return undefined;
    if (configAllow.length > 0 && toBlockList(configAllow).check(ip, family) && !isLinkLocal(ip, family)) return undefined;
    return `${address} is a loopback, private, link-local or reserved address, or one of this server's (start the server with --allow-private-origins to allow it)`;
  }

  /** Resolves the host and checks every address; the first is the one to connect to. Throws OriginRefused. */
  async resolve(host: string, port: number, configAllow: string[] = []): Promise<string> {
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    const addresses = isIP(bare) !== 0 ? [bare] : (await lookup(bare, { all: true, verbatim: true }).catch(() => [])).map((a) => a.address);
    if (addresses.length === 0) throw new OriginRefused(`the origin host "${host}" does not resolve`);
    for (const address of addresses) {
      const why = this.refusal(address, port, configAllow);
      if (why !== undefined) throw new OriginRefused(`the origin host "${host}" is refused: ${why}`);
    }
    return addresses[0]!;
  }

  private isOwnListener(ip: string, family: 'ipv4' | 'ipv6', port: number): boolean {
    for (const own of this.options.ownListeners?.() ?? []) {
      if (own.port !== port) continue;
      const wildcard = own.host === '0.0.0.0' || own.host === '::' || own.host === '';
      if (wildcard ? PRIVATE.check(ip, family) || this.isOwnInterface(ip) : own.host === ip || (own.host === 'localhost' && PRIVATE.check(ip, family))) return true;
    }
    return false;
  }

  private isOwnInterface(ip: string): boolean {
    return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address.toLowerCase() === ip.toLowerCase()));
  }
}

function isLinkLocal(ip: string, family: 'ipv4' | 'ipv6'): boolean {
  const list = new BlockList();
  if (family === 'ipv4') list.addSubnet('169.254.0.0', 16, 'ipv4');
  else list.addSubnet('fe80::', 10, 'ipv6');
  return list.check(ip, family) || METADATA.includes(ip.toLowerCase());
}

function toBlockList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [net, bits] = entry.split('/');
    const family = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (isIP(net ?? '') === 0) throw new OriginRefused(`"${entry}" is not an IP address or CIDR`);
    if (bits === undefined) list.addAddress(net!, family);
    else list.addSubnet(net!, Number(bits), family);
  }
  return list;
}

/** An origin address the guard refuses (at configuration or at connect). */
export class OriginRefused extends Error {}
