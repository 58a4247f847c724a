// Type-checks consumer projects with the TypeScript compiler API, all in this one process, and prints JSON:
// one `{ errors, files, checked }` per project. Run by consumers.test.ts as a plain Node child: the compiler
// ran 2–3× slower inside a vitest worker, and two `tsc` processes took 13–20 s on a busy 2-core machine
// (issue 15, item 13).
//
// usage: node type-check.mjs <projectDir> <sdkDistDir> '<json [{ "compilerOptions": {…}, "files": […] }, …]>'
//
// Each program is built as `tsc -p` would build it. What is checked is what the SDK answers for: the
// consumer's own files and every declaration file under <sdkDistDir>, with `skipLibCheck: false` semantics.
// Third-party declarations (lib.dom, @types/node, msw) are loaded and used for types, but not checked line
// by line: that was ~80 % of the time and tests nothing of ours.
import { join } from "node:path";
import ts from "typescript";

const [projectDir, distDir, projectsJson] = process.argv.slice(2);
if (!projectDir || !distDir || !projectsJson) {
  console.error("usage: node type-check.mjs <projectDir> <sdkDistDir> <projects as JSON>");
  process.exit(2);
}

// Declaration files parse the same way in every project with the same target, so they are parsed once.
const parsed = new Map();

function check({ compilerOptions, files: rootFiles }) {
  const converted = ts.convertCompilerOptionsFromJson(compilerOptions, projectDir);
  const options = converted.options;
  const host = ts.createCompilerHost(options);
  host.getCurrentDirectory = () => projectDir;
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    if (!fileName.endsWith(".d.ts")) return getSourceFile(fileName, languageVersion, ...rest);
    const version = typeof languageVersion === "object" ? languageVersion : { languageVersion };
    const key = `${fileName}\0${version.languageVersion}\0${version.impliedNodeFormat}`;
    if (!parsed.has(key)) parsed.set(key, getSourceFile(fileName, languageVersion, ...rest));
    return parsed.get(key);
  };
  const program = ts.createProgram({ rootNames: rootFiles.map((file) => join(projectDir, file)), options, host });
  const ours = program
    .getSourceFiles()
    .filter((file) => file.fileName.startsWith(`${distDir}/`) || file.fileName.startsWith(`${projectDir}/`));
  const diagnostics = [
    ...converted.errors,
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...ours.flatMap((file) => [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)]),
  ];
  return {
    errors: diagnostics.map((d) => {
      const at = d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} ` : "";
      return `${at}error TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    }),
    files: program.getSourceFiles().map((file) => file.fileName),
    checked: ours.map((file) => file.fileName),
  };
}

console.log(JSON.stringify(JSON.parse(projectsJson).map(check)));
