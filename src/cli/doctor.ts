/** `airlock doctor`: which isolation backends actually work here, and the strongest default. */
import { detectBackends, renderDoctorReport } from '../sandbox/detect.js';
import { parseFlags, type Command } from './command.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check which isolation backends work on this host and pick the strongest default.',
  usage: 'airlock doctor [--json]',
  help: 'Starts a trivial sandbox with each backend (gVisor runsc, bubblewrap), checks /dev/kvm, user namespaces,\ncgroups and overlayfs. Exit 0 when at least one backend works, 1 when none does.\n\nFlags:\n  --json   print the report as JSON: {host, backends: [{name, available, version, detail, warnings}], userNamespaces, cgroups, overlayfs, strongest}',
  async run(argv) {
    const { values } = parseFlags(this, argv, { json: { type: 'boolean' } }, { maxPositionals: 0 });
    const report = await detectBackends();
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctorReport(report));
    return report.strongest ? 0 : 1;
  },
};
