/** JUnit XML for CI dashboards: one test case per analysed type; a leak in a gated type is a failure. */

import type { Finding } from '../analysis/types.js';
import { ROW_LABELS } from '../vocabulary.js';

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
    // Control characters other than tab/newline are not allowed in XML 1.0 at all.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

/** One test case: what was judged (`Heap`, a series' labels) and what it is called, its finding, whether a leak fails it. */
export interface JunitCase {
  /** The case's name: what passes (`Heap memory does not leak`). */
  name: string;
  /** The failure's message: what fails (`Heap leaks`). */
  failure: string;
  finding: Finding;
  gated: boolean;
}

export function junitSuite(suite: string, classname: string, cases: JunitCase[]): string {
  const failed = (c: JunitCase) => c.gated && c.finding.verdict === 'leak';
  const lines = cases.map((c) => {
    const body = failed(c)
      ? `\n    <failure message="${escapeXml(c.failure)}" type="leak">${escapeXml(c.finding.explanation)}</failure>\n  `
      : `\n    <system-out>${escapeXml(`${c.finding.verdict}: ${c.finding.explanation}`)}</system-out>\n  `;
    return `  <testcase classname="${escapeXml(classname)}" name="${escapeXml(c.name)}">${body}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="${escapeXml(suite)}" tests="${cases.length}" failures="${cases.filter(failed).length}" errors="0" skipped="0">`,
    ...lines,
    '</testsuite>',
    '',
  ].join('\n');
}

export function junitXml(sessionId: number, command: string, findings: Finding[], isGated: (f: Finding) => boolean): string {
  return junitSuite(`leakwatch session ${sessionId}: ${command}`, `leakwatch.session${sessionId}`,
    findings.map((f) => ({ name: `${ROW_LABELS[f.type]} memory does not leak`, failure: `${ROW_LABELS[f.type]} leaks`, finding: f, gated: isGated(f) })));
}
