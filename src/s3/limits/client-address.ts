/**
 * The client's address for per-client limits: the socket's peer, unless that peer is a trusted
 * proxy (--trusted-proxy CIDR), in which case the right-most X-Forwarded-For address that is not
 * itself a trusted proxy. An untrusted peer's X-Forwarded-For is ignored: anyone can send one.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export class ClientAddresses {
  private readonly trusted = new BlockList();
  readonly any: boolean;

  constructor(cidrs: string[] = []) {
    for (const cidr of cidrs) {
      const [address, bits] = cidr.split('/') as [string, string | undefined];
      const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
      if (type === undefined) throw new Error(`--trusted-proxy: "${cidr}" is not an IP address or CIDR range`);
      const prefix = bits === undefined ? (type === 'ipv4' ? 32 : 128) : Number(bits);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) throw new Error(`--trusted-proxy: bad prefix length in "${cidr}"`);
      this.trusted.addSubnet(address, prefix, type);
    }
    this.any = cidrs.length > 0;
  }

  of(req: IncomingMessage): string {
    const peer = normalize(req.socket.remoteAddress ?? '');
    if (!this.any || !this.isTrusted(peer)) return peer;
    const forwarded = req.headers['x-forwarded-for'];
    const chain = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((s) => normalize(s.trim())).filter((s) => s !== '');
    for (let i = chain.length - 1; i >= 0; i--) if (!this.isTrusted(chain[i]!)) return chain[i]!;
    return chain[0] ?? peer;
  }

  private isTrusted(address: string): boolean {
    if (isIPv4(address)) return this.trusted.check(address, 'ipv4');
    if (isIPv6(address)) return this.trusted.check(address, 'ipv6');
    return false;
  }
}

function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
