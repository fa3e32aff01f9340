/** JUnit XML for CI dashboards: one test case per analysed type; a leak in a gated type is a failure. */

import type { Finding } from '../analysis/types.js';
import { ROW_LABELS } from '../vocabulary.js';

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
    // Control characters other than tab/newline are not allowed in XML 1.0 at all.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function junitXml(sessionId: number, command: string, findings: Finding[], isGated: (f: Finding) => boolean): string {
  const failures = findings.filter((f) => isGated(f) && f.verdict === 'leak').length;
  const cases = findings.map((f) => {
    const name = escapeXml(`${ROW_LABELS[f.type]} memory does not leak`);
    const body = isGated(f) && f.verdict === 'leak'
      ? `\n    <failure message="${escapeXml(`${ROW_LABELS[f.type]} leaks`)}" type="leak">${escapeXml(f.explanation)}</failure>\n  `
      : `\n    <system-out>${escapeXml(`${f.verdict}: ${f.explanation}`)}</system-out>\n  `;
    return `  <testcase classname="leakwatch.session${sessionId}" name="${name}">${body}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="${escapeXml(`leakwatch session ${sessionId}: ${command}`)}" tests="${findings.length}" failures="${failures}" errors="0" skipped="0">`,
    ...cases,
    '</testsuite>',
    '',
  ].join('\n');
}
