import { describe, expect, it } from 'vitest';
import { childText, children, parseXml } from './xml.js';

describe('parseXml entities', () => {
  it('decodes character references the way Go and the SDKs write them', () => {
    // rclone / aws-sdk-go send `"` in ETags as &#34;.
    const doc = parseXml('<CompleteMultipartUpload><Part><ETag>&#34;abc&#34;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>');
    const [part] = children(doc.CompleteMultipartUpload, 'Part');
    expect(childText(part, 'ETag')).toBe('"abc"');
    expect(childText(parseXml('<K>a&#xD;b&#x22;&#233;&lt;&amp;&quot;&apos;&gt;</K>'), 'K')).toBe('a\rb"é<&"\'>');
  });

  it('decodes in one pass and leaves unknown or invalid references alone', () => {
    expect(childText(parseXml('<K>&amp;#34;|&#38;lt;</K>'), 'K')).toBe('&#34;|&lt;');
    expect(childText(parseXml('<K>&#xD800;|&#0;</K>'), 'K')).toBe('&#xD800;|&#0;');
  });

  it('trims values but keeps object keys and tag values verbatim', () => {
    const doc = parseXml('<Delete>\n  <Quiet> true </Quiet>\n  <Object>\n    <Key> lead</Key>\n  </Object>\n  <Object><Key>trail </Key></Object>\n</Delete>\n');
    expect(childText(doc.Delete, 'Quiet')).toBe('true');
    expect(children(doc.Delete, 'Object').map((o) => childText(o, 'Key'))).toEqual([' lead', 'trail ']);
    const tags = parseXml('<Tagging><TagSet>\n<Tag>\n<Key>a b </Key>\n<Value> v</Value>\n</Tag>\n</TagSet></Tagging>');
    expect(JSON.stringify(tags)).toBe('{"Tagging":{"TagSet":{"Tag":[{"Key":"a b ","Value":" v"}]}}}');
  });
});
