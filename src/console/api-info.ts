/** `GET /info`: the server's public facts for the console (no secrets). */
import type { ApiAnswer, SignedInCall } from './deps.js';

export async function info(call: SignedInCall): Promise<ApiAnswer> {
  const { deps } = call;
  const website = deps.websiteEndpoint?.();
  return {
    body: {
      version: deps.version,
      endpoint: deps.endpoint(),
      ...(website ? { websiteEndpoint: website } : {}),
      region: deps.config.region,
      domain: deps.config.domain,
    },
  };
}
