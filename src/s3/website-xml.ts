/** S3's WebsiteConfiguration: XML in and out, validated as S3 validates it. */
import { S3Error } from '../errors/s3-error.js';
import { child, children, childText, doc, el, parseXml, text, type XmlValue } from './xml.js';
import type { RoutingRule, WebsiteConfig } from '../media/website-config.js';

const invalid = (message: string) => new S3Error('InvalidArgument', message);

export function parseWebsiteXml(body: string): WebsiteConfig {
  const root = child(parseXml(body), 'WebsiteConfiguration');
  if (!root) throw new S3Error('MalformedXML');
  const redirectAll = child(root, 'RedirectAllRequestsTo');
  const config: WebsiteConfig = {
    indexDocument: childText(child(root, 'IndexDocument'), 'Suffix'),
    errorDocument: childText(child(root, 'ErrorDocument'), 'Key'),
    routingRules: children(child(root, 'RoutingRules'), 'RoutingRule').map(parseRule),
  };
  if (redirectAll) {
    const hostName = childText(redirectAll, 'HostName');
    if (!hostName) throw invalid('RedirectAllRequestsTo requires a HostName');
    config.redirectAllRequestsTo = { hostName, protocol: protocolOf(childText(redirectAll, 'Protocol')) };
    if (config.indexDocument || config.errorDocument || config.routingRules.length) throw invalid('RedirectAllRequestsTo cannot be combined with other website configuration');
    return config;
  }
  if (config.indexDocument === undefined) throw invalid('A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty');
  if (config.indexDocument === '' || config.indexDocument.includes('/')) throw invalid('The IndexDocument Suffix is not well formed');
  return config;
}

function protocolOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value !== 'http' && value !== 'https') throw invalid(`Invalid protocol, protocol can be http or https. ${value} is not valid.`);
  return value;
}

function parseRule(node: XmlValue): RoutingRule {
  const condition = child(node, 'Condition');
  const redirect = child(node, 'Redirect');
  if (!redirect) throw invalid('RoutingRule requires a Redirect');
  const rule: RoutingRule = {
    redirect: {
      protocol: protocolOf(childText(redirect, 'Protocol')),
      hostName: childText(redirect, 'HostName'),
      replaceKeyPrefixWith: childText(redirect, 'ReplaceKeyPrefixWith'),
      replaceKeyWith: childText(redirect, 'ReplaceKeyWith'),
      httpRedirectCode: childText(redirect, 'HttpRedirectCode'),
    },
  };
  if (rule.redirect.replaceKeyPrefixWith !== undefined && rule.redirect.replaceKeyWith !== undefined) throw invalid('You can only define ReplaceKeyPrefix or ReplaceKey but not both.');
  const code = rule.redirect.httpRedirectCode;
  if (code !== undefined && !/^3\d\d$/.test(code)) throw invalid(`The provided HTTP redirect code (${code}) is not valid. Valid codes are 3XX except 300.`);
  if (condition) {
    rule.condition = { keyPrefixEquals: childText(condition, 'KeyPrefixEquals'), httpErrorCodeReturnedEquals: childText(condition, 'HttpErrorCodeReturnedEquals') };
    const errorCode = rule.condition.httpErrorCodeReturnedEquals;
    if (errorCode !== undefined && !/^[45]\d\d$/.test(errorCode)) throw invalid(`The provided HTTP error code (${errorCode}) is not valid. Valid codes are 4XX or 5XX.`);
  }
  return rule;
}

export function websiteXml(config: WebsiteConfig): string {
  if (config.redirectAllRequestsTo) {
    const r = config.redirectAllRequestsTo;
    return doc('WebsiteConfiguration', el('RedirectAllRequestsTo', text('HostName', r.hostName), text('Protocol', r.protocol)));
  }
  return doc(
    'WebsiteConfiguration',
    config.indexDocument === undefined ? '' : el('IndexDocument', text('Suffix', config.indexDocument)),
    config.errorDocument === undefined ? '' : el('ErrorDocument', text('Key', config.errorDocument)),
    config.routingRules.length === 0
      ? ''
      : el(
          'RoutingRules',
          config.routingRules.map((rule) =>
            el(
              'RoutingRule',
              rule.condition ? el('Condition', text('KeyPrefixEquals', rule.condition.keyPrefixEquals), text('HttpErrorCodeReturnedEquals', rule.condition.httpErrorCodeReturnedEquals)) : '',
              el('Redirect', text('Protocol', rule.redirect.protocol), text('HostName', rule.redirect.hostName), text('ReplaceKeyPrefixWith', rule.redirect.replaceKeyPrefixWith), text('ReplaceKeyWith', rule.redirect.replaceKeyWith), text('HttpRedirectCode', rule.redirect.httpRedirectCode)),
            ),
          ),
        ),
  );
}
