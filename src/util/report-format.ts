/**
 * The four report formats shared by `airlock score` and `airlock audit`, and the one place that
 * turns a report into one of them: JSON and SARIF are serialised here, text and Markdown by the
 * caller's renderers.
 */
export const REPORT_FORMATS = ['text', 'json', 'markdown', 'sarif'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportRenderers<R> {
  text(report: R): string;
  markdown(report: R): string;
  /** The SARIF 2.1.0 log object for the report. */
  sarif(report: R): unknown;
}

export function renderReport<R>(report: R, format: ReportFormat, renderers: ReportRenderers<R>): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'sarif':
      return `${JSON.stringify(renderers.sarif(report), null, 2)}\n`;
    case 'markdown':
      return renderers.markdown(report);
    default:
      return renderers.text(report);
  }
}
