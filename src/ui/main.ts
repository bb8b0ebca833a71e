// The simulator page's entry (index.html loads it; nothing inline, for the page's CSP). Adopts the document styles,
// then shows <du-app>, or the no-WebGPU page where the browser has no WebGPU at all.
import './csp';
import './app';
import { DuNoWebGpu, hasWebGpu } from './no-webgpu';
import { documentStyles } from './styles';

const sheet = documentStyles.styleSheet;
if (sheet) document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];

const root = document.getElementById('app');
if (!root) throw new Error('index.html has no #app element');
root.replaceChildren(hasWebGpu() ? document.createElement('du-app') : new DuNoWebGpu());
