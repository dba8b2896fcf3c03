import { NpmPackageCollector, isRecord, npmLicenses, stringField, type ParseResult } from './collect.js';

/**
 * A `package.json`: the installed package itself when it sits in `node_modules/<name>/`, or an application's own
 * manifest elsewhere (recorded too, as Trivy's and Syft's package.json catalogers do). Only files with both a name
 * and a version describe a package; others (build configs, partial manifests) give nothing.
 * Throws on text that is not JSON.
 */
export function parsePackageJson(text: string): ParseResult {
  const doc: unknown = JSON.parse(text);
  const collector = new NpmPackageCollector();
  if (isRecord(doc)) {
    const name = stringField(doc, 'name')?.trim();
    const version = stringField(doc, 'version')?.trim();
    if (name && version) {
      collector.add({
        name,
        version,
        licenses: npmLicenses(doc.license) ?? npmLicenses(doc.licenses),
      });
    }
  }
  return { packages: collector.packages(), notices: [] };
}
