/**
 * One image's report drawn as a section of the page: every part of the JSON contract, in page order. The HTML
 * report (./main.ts) draws one per report; the results site (src/web/site/) mounts it on an image's page, so both
 * show an image the same way.
 */
import { detonationSection } from './detonation.js';
import { h } from './dom.js';
import {
  findingsSection, imageFacts, layersSection, noticesSection, packagesSection, suppressedSection, verdictBanner, vulnerabilitiesSection,
} from './sections.js';
import { isObj, obj, str, type Rec } from './text.js';

type Section = (report: Rec, id: string) => HTMLElement;

/** The sections of one image, in page order: id suffix, title, and what draws it. */
const SECTIONS: readonly (readonly [string, string, Section])[] = [
  ['verdict', 'Verdict', verdictBanner], ['image', 'Image', imageFacts], ['findings', 'Findings', findingsSection],
  ['vulnerabilities', 'Vulnerabilities', vulnerabilitiesSection], ['detonation', 'Detonation', detonationSection],
  ['layers', 'Layers', layersSection], ['packages', 'Packages', packagesSection], ['notices', 'Notices', noticesSection],
  ['suppressed', 'Suppressed', suppressedSection],
];

export const isMalicious = (r: Rec): boolean => isObj(r.verdict) && r.verdict.malicious === true;

/** The report as `<section id="r{i}">`, its parts with ids `r{i}-verdict`, `r{i}-findings`, … and a table of contents linking to them. */
export function renderReport(report: Rec, i: number): HTMLElement {
  const img = obj(report.image);
  const p = 'r' + i + '-';
  const section = h('section', { class: 'image', id: 'r' + i, 'data-image': String(i) },
    h('h2', null, img.reference || img.digest || 'image ' + (i + 1)),
    h('nav', { class: 'toc' }, SECTIONS.map(([key, title]) => h('a', { href: '#' + p + key }, title))));
  for (const [key, title, draw] of SECTIONS) {
    try {
      section.appendChild(draw(report, p + key));
    } catch (err) {
      // one malformed part of a report must not hide the rest
      section.appendChild(h('section', { class: 'card', id: p + key }, h('h3', null, title),
        h('p', { class: 'error' }, 'This part of the report could not be shown: ' + str(err instanceof Error ? err.message : undefined))));
    }
  }
  return section;
}
