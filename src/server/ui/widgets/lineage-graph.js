// The lineage graph (versions, data inputs, code commits) laid out by dagre in cytoscape.
import cytoscape from '../vendor/cytoscape.esm.min.mjs';
import cytoscapeDagre from '../vendor/cytoscape-dagre.min.mjs';
import { mount, versionHref } from '../dom.js';

cytoscape.use(cytoscapeDagre);

const short = (s, n = 28) => (s.length > n ? `…${s.slice(-n)}` : s);

function nodeLabel(n) {
  if (n.kind === 'version') return n.missing ? `${n.model || '?'}@${n.versionId.slice(0, 8)} (not here)` : `${n.ref}${n.stages.length ? `\n[${n.stages.join(', ')}]` : ''}`;
  if (n.kind === 'data') return `${short(n.source)}${n.digest ? `\n${n.digest.slice(0, 10)}` : ''}`;
  return `${n.commit.slice(0, 10)}${n.branch ? `\n${n.branch}` : ''}${n.dirty ? ' (dirty)' : ''}`;
}

/** Draws `graph` ({root, nodes, edges}) into `el`; clicking a version opens its page. Returns the cytoscape instance. */
export function drawLineage(el, graph) {
  mount(el);
  const cy = cytoscape({
    container: el,
    elements: [
      ...graph.nodes.map((n) => ({ data: { id: n.id, label: nodeLabel(n), kind: n.kind, ref: n.ref ?? null, root: n.id === graph.root ? 1 : 0 } })),
      ...graph.edges.map((e, i) => ({ data: { id: `e${i}`, source: e.from, target: e.to, kind: e.kind } })),
    ],
    layout: { name: 'dagre', rankDir: 'LR', nodeSep: 24, rankSep: 70, padding: 20 },
    minZoom: 0.2,
    maxZoom: 2.5,
    style: [
      { selector: 'node', style: { label: 'data(label)', 'text-wrap': 'wrap', 'font-size': 11, 'text-valign': 'center', 'text-halign': 'center', color: '#101828', width: 150, height: 44, shape: 'round-rectangle', 'background-color': '#e4e7ec', 'border-width': 1, 'border-color': '#98a2b3' } },
      { selector: 'node[kind = "version"]', style: { 'background-color': '#f2f4f7' } },
      { selector: 'node[root = 1]', style: { 'background-color': '#3452d9', color: '#fff', 'border-color': '#1d2b8f', 'border-width': 2 } },
      { selector: 'node[kind = "data"]', style: { 'background-color': '#fef0c7', 'border-color': '#f79009', shape: 'barrel' } },
      { selector: 'node[kind = "code"]', style: { 'background-color': '#d1fadf', 'border-color': '#12b76a', shape: 'tag' } },
      { selector: 'edge', style: { width: 1.5, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'line-color': '#98a2b3', 'target-arrow-color': '#98a2b3', label: 'data(kind)', 'font-size': 9, color: '#667085', 'text-background-color': '#fff', 'text-background-opacity': 1 } },
      { selector: 'edge[kind = "parent"]', style: { 'line-color': '#3452d9', 'target-arrow-color': '#3452d9' } },
    ],
  });
  cy.on('tap', 'node[kind = "version"]', (evt) => {
    const ref = evt.target.data('ref');
    if (ref && evt.target.data('root') !== 1) location.hash = versionHref(ref);
  });
  el.dataset.nodes = String(graph.nodes.length);
  el.dataset.edges = String(graph.edges.length);
  cy.ready(() => {
    cy.fit(undefined, 20);
    if (cy.zoom() > 1.4) cy.zoom({ level: 1.4, position: cy.getElementById(graph.root).position() });
    el.dataset.drawn = 'true';
  });
  return cy;
}
