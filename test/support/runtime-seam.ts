/**
 * The runtime seam, checked on the program's own syntax and symbols (the TypeScript compiler), not on its text:
 * code outside src/detonate/runtime/ must not name a runtime, use what a runtime's folder declares, or branch on a
 * runtime's name. What counts as naming one:
 *  - a string or template part with no whitespace (an identifier, a path, a flag; prose is documentation) that has a
 *    runtime's name as one of its words: `'runc'`, `` `${root}/runsc` ``, `'runsc.boot.log'`;
 *  - a regular expression with a runtime's name as a word (`/(^|\/)runc$/`: reading a runtime's messages or argv);
 *  - a declaration named after one (`isRuncInit`, `GVISOR_FIFO`): runtime-specific code living outside;
 *  - an identifier whose symbol is declared in a runtime's folder (`runtime/<name>/`) or in the runtimes' shared
 *    helpers (`runtime/common.ts`), however it was imported or re-exported;
 *  - a comparison or `switch` on a runtime's name: `Runtime.name`, or anything declared as a `RuntimeName`.
 * The seam itself (runtime/runtime.ts, registry.ts, detect.ts, index.ts) is what the rest may use.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

export interface SeamViolation {
  /** `src/…:line`. */
  at: string;
  message: string;
}

export interface SeamCheckOptions {
  /** The repository (or fixture tree) root: its `src/` is checked. */
  root: string;
  /** The runtimes' names and the other words that name one (a state dir, a binary), lower case. */
  names: readonly string[];
}

const RUNTIME_DIR = 'src/detonate/runtime/';
const SEAM_MODULES = new Set(['runtime.ts', 'registry.ts', 'detect.ts', 'index.ts'].map((f) => `${RUNTIME_DIR}${f}`));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Words of an identifier: `isRuncInit` → is, runc, init; `GVISOR_BOOT_FIFO` → gvisor, boot, fifo. */
function identifierWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_$]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

export function seamViolations(options: SeamCheckOptions): SeamViolation[] {
  const names = new Set(options.names.map((n) => n.toLowerCase()));
  const rel = (file: string): string => relative(options.root, file).split(sep).join('/');
  const inRuntimeDir = (file: string): boolean => rel(file).startsWith(RUNTIME_DIR);
  /** A runtime's own folder, or the runtimes' shared helpers: what only runtime/ may use. */
  const runtimeInternal = (file: string): boolean => inRuntimeDir(file) && !SEAM_MODULES.has(rel(file));

  const files = sourceFiles(join(options.root, 'src')).filter((f) => !f.endsWith('.test.ts'));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();

  // Names declared or used in runtime/: only identifiers spelt like one of them can resolve into it.
  const runtimeWords = new Set<string>();
  for (const sf of program.getSourceFiles()) {
    if (!runtimeInternal(sf.fileName)) continue;
    const collect = (node: ts.Node): void => {
      if (ts.isIdentifier(node)) runtimeWords.add(node.text);
      ts.forEachChild(node, collect);
    };
    collect(sf);
  }

  const resolved = (node: ts.Node): ts.Symbol | undefined => {
    const symbol = checker.getSymbolAtLocation(node);
    return symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  };
  const declaredIn = (symbol: ts.Symbol | undefined, test: (file: string) => boolean): ts.Declaration | undefined =>
    symbol?.declarations?.find((d) => test(d.getSourceFile().fileName));

  /** `Runtime.name`, or a variable, property or parameter declared as a `RuntimeName`. */
  const namesRuntime = (expr: ts.Expression): boolean => {
    const e = ts.isParenthesizedExpression(expr) ? expr.expression : expr;
    const target = ts.isPropertyAccessExpression(e) ? e.name : ts.isIdentifier(e) ? e : undefined;
    if (!target) return false;
    const symbol = resolved(target);
    for (const d of symbol?.declarations ?? []) {
      const file = d.getSourceFile().fileName;
      if (!inRuntimeDir(file)) {
        const type = (d as ts.Declaration & { type?: ts.TypeNode }).type;
        if (type && ts.isTypeReferenceNode(type)) {
          const alias = resolved(type.typeName);
          if (alias?.name === 'RuntimeName' && declaredIn(alias, inRuntimeDir)) return true;
        }
        continue;
      }
      if (symbol!.name === 'name' && ts.isPropertySignature(d) && ts.isInterfaceDeclaration(d.parent) && d.parent.name.text === 'Runtime') return true;
      const type = (d as ts.Declaration & { type?: ts.TypeNode }).type;
      if (type && ts.isTypeReferenceNode(type) && type.typeName.getText() === 'RuntimeName') return true;
    }
    return false;
  };

  const violations: SeamViolation[] = [];
  for (const sf of program.getSourceFiles()) {
    const file = sf.fileName;
    if (sf.isDeclarationFile || !rel(file).startsWith('src/') || inRuntimeDir(file) || file.endsWith('.test.ts')) continue;
    const report = (node: ts.Node, message: string): void => {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      violations.push({ at: `${rel(file)}:${line + 1}`, message });
    };
    const namedIn = (text: string): string | undefined => {
      if (/\s/.test(text)) return undefined; // prose: documentation
      return text.split(/[^A-Za-z0-9_-]+/).find((w) => names.has(w.toLowerCase()));
    };
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
        const word = namedIn(node.text);
        if (word !== undefined) report(node, `names the runtime "${word}" in ${JSON.stringify(node.text).slice(0, 80)}`);
      } else if (ts.isRegularExpressionLiteral(node)) {
        const word = [...names].find((n) => new RegExp(`(?<![A-Za-z])${n}(?![A-Za-z])`, 'i').test(node.text));
        if (word !== undefined) report(node, `reads a runtime's words: ${node.text.slice(0, 80)} names "${word}"`);
      } else if (ts.isBinaryExpression(node) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken].includes(node.operatorToken.kind)) {
        if (namesRuntime(node.left) || namesRuntime(node.right)) report(node, `branches on the runtime's name: ${node.getText(sf).slice(0, 80)}`);
      } else if (ts.isSwitchStatement(node) && namesRuntime(node.expression)) {
        report(node, `branches on the runtime's name: switch (${node.expression.getText(sf).slice(0, 60)})`);
      } else if (ts.isIdentifier(node)) {
        const parent = node.parent;
        const declares = (ts.isVariableDeclaration(parent) || ts.isFunctionDeclaration(parent) || ts.isClassDeclaration(parent) || ts.isInterfaceDeclaration(parent) ||
          ts.isTypeAliasDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent) ||
          ts.isParameter(parent) || ts.isEnumMember(parent)) && parent.name === node;
        const word = declares ? identifierWords(node.text).find((w) => names.has(w)) : undefined;
        if (word !== undefined) report(node, `declares ${node.text}, named after the runtime "${word}"`);
        else if (runtimeWords.has(node.text)) {
          const d = declaredIn(resolved(node), runtimeInternal);
          if (d) report(node, `uses ${node.text}, which belongs to ${rel(d.getSourceFile().fileName)} (reach a runtime through the registry and the Runtime interface)`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return violations;
}
