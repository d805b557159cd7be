/** Redaction of secrets (signatures, session tokens) from URLs and free text before they are logged. */

// Query parameters that would let whoever reads a log replay a presigned URL until it expires.
// The access key ids (X-Amz-Credential, AWSAccessKeyId) stay: they say who signed, and are no secret.
const SECRET_PARAMS = new Set(['x-amz-signature', 'signature', 'x-amz-security-token']);

/** The URL with the values of signature and token parameters replaced by REDACTED (names kept, whatever their case or encoding). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url.slice(q + 1).split('&').map((param) => {
    const eq = param.indexOf('=');
    const name = eq < 0 ? param : param.slice(0, eq);
    return SECRET_PARAMS.has(decodedName(name).toLowerCase()) ? `${name}=REDACTED` : param;
  });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

/**
 * Free text (an error's message or stack) with anything that looks like a signature, a session
 * token or a V2 Authorization header's signature redacted, for lines written to the server's output.
 */
export function redactText(text: string): string {
  return text
    .replace(/\b((?:X-Amz-Signature|Signature|X-Amz-Security-Token)=)[^&\s"',]+/gi, '$1REDACTED')
    .replace(/\bAWS ([A-Za-z0-9._-]+):[A-Za-z0-9+/=]+/g, 'AWS $1:REDACTED');
}

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}
