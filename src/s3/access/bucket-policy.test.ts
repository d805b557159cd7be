import { describe, expect, it } from 'vitest';
import { evaluatePolicy, isPublicPolicy, parsePolicy, type PolicyRequest } from './bucket-policy.js';
import { S3Error } from '../../errors/s3-error.js';

// The public-read policy AWS documents for static websites.
const PUBLIC_READ = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'PublicReadGetObject', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::media/*'] }],
});

const req = (over: Partial<PolicyRequest> = {}): PolicyRequest => ({ action: 's3:GetObject', resource: 'arn:aws:s3:::media/css/site.css', secureTransport: false, sourceIp: '127.0.0.1', ...over });

describe('bucket policies', () => {
  it('allows anonymous reads with the documented public-read policy', () => {
    const policy = parsePolicy(PUBLIC_READ, 'media');
    expect(evaluatePolicy(policy, req())).toBe('Allow');
    expect(evaluatePolicy(policy, req({ action: 's3:PutObject' }))).toBe('Default');
    expect(evaluatePolicy(policy, req({ action: 's3:ListBucket', resource: 'arn:aws:s3:::media' }))).toBe('Default');
    expect(isPublicPolicy(policy)).toBe(true);
  });

  it('lets an explicit Deny override an Allow', () => {
    const policy = parsePolicy(JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        JSON.parse(PUBLIC_READ).Statement[0],
        { Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::media/private/*' },
      ],
    }), 'media');
    expect(evaluatePolicy(policy, req())).toBe('Allow');
    expect(evaluatePolicy(policy, req({ resource: 'arn:aws:s3:::media/private/x.pdf' }))).toBe('Deny');
  });

  it('evaluates aws:SourceIp, aws:Referer and s3:prefix conditions', () => {
    const policy = parsePolicy(JSON.stringify({
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::media/*', Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } } },
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::media/img/*', Condition: { StringLike: { 'aws:Referer': ['https://www.example.com/*'] } } },
        { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::media', Condition: { StringEquals: { 's3:prefix': ['public/'] } } },
      ],
    }), 'media');
    expect(evaluatePolicy(policy, req({ sourceIp: '10.1.2.3' }))).toBe('Allow');
    expect(evaluatePolicy(policy, req({ sourceIp: '2001:db8::1' }))).toBe('Allow');
    expect(evaluatePolicy(policy, req({ sourceIp: '192.168.1.1' }))).toBe('Default');
    expect(evaluatePolicy(policy, req({ resource: 'arn:aws:s3:::media/img/a.png', referer: 'https://www.example.com/page' }))).toBe('Allow');
    expect(evaluatePolicy(policy, req({ resource: 'arn:aws:s3:::media/img/a.png', referer: 'https://evil.example/' }))).toBe('Default');
    expect(evaluatePolicy(policy, req({ resource: 'arn:aws:s3:::media/img/a.png' }))).toBe('Default');
    expect(evaluatePolicy(policy, req({ action: 's3:ListBucket', resource: 'arn:aws:s3:::media', prefix: 'public/' }))).toBe('Allow');
    expect(evaluatePolicy(policy, req({ action: 's3:ListBucket', resource: 'arn:aws:s3:::media', prefix: 'secret/' }))).toBe('Default');
    expect(isPublicPolicy(policy)).toBe(false);
  });

  it('matches principals by id and actions by wildcard', () => {
    const policy = parsePolicy(JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::abc123:root'] }, Action: 's3:Get*', Resource: 'arn:aws:s3:::media/*' }],
    }), 'media');
    expect(evaluatePolicy(policy, req({ caller: 'abc123' }))).toBe('Allow');
    expect(evaluatePolicy(policy, req({ caller: 'other' }))).toBe('Default');
    expect(evaluatePolicy(policy, req())).toBe('Default');
  });

  it.each([
    ['not JSON', '{', /valid JSON/],
    ['NotPrincipal', JSON.stringify({ Statement: [{ Effect: 'Allow', NotPrincipal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::media/*' }] }), /NotPrincipal/],
    ['NotAction', JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', NotAction: 's3:GetObject', Resource: 'arn:aws:s3:::media/*' }] }), /NotAction/],
    ['an unknown operator', JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::media/*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01' } } }] }), /DateGreaterThan/],
    ['an unknown condition key', JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::media/*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } } }] }), /aws:PrincipalOrgID/],
    ['another bucket', JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' }] }), /other/],
    ['a bad action', JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ec2:RunInstances', Resource: 'arn:aws:s3:::media/*' }] }), /ec2/],
    ['a bad effect', JSON.stringify({ Statement: [{ Effect: 'Maybe', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::media/*' }] }), /Effect/],
  ])('refuses %s with MalformedPolicy naming it', (_name, text, message) => {
    let error: unknown;
    try {
      parsePolicy(text, 'media');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(S3Error);
    expect((error as S3Error).code).toBe('MalformedPolicy');
    expect((error as S3Error).message).toMatch(message);
  });
});
