/**
 * Part numbers, wherever a client sends one (UploadPart, GetObject/HeadObject `partNumber`,
 * CompleteMultipartUpload's list): decimal digits only, 1 to 10000. `1e0`, `0x1`, `+1`, `1.0`
 * or a 400-digit number are refused, never coerced by Number() into something valid.
 */
import { S3Error } from '../../errors/s3-error.js';

export const MAX_PART_NUMBER = 10_000;

const RANGE_MESSAGE = 'Part number must be an integer between 1 and 10000, inclusive';

/** A query parameter's part number; anything else is InvalidArgument. */
export function parsePartNumber(raw: string, argumentName = 'partNumber'): number {
  const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) throw new S3Error('InvalidArgument', RANGE_MESSAGE, { ArgumentName: argumentName, ArgumentValue: raw.slice(0, 64) });
  return n;
}

/** A `<PartNumber>` element: not a decimal integer is MalformedXML (the schema's xs:int), out of range InvalidArgument. */
export function parsePartNumberXml(raw: string | undefined): number {
  const value = raw?.trim() ?? '';
  if (!/^\d{1,10}$/.test(value)) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  return parsePartNumber(value, 'PartNumber');
}
