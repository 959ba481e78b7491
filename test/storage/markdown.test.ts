import { storageConformanceSuite } from './conformance.js';

storageConformanceSuite('markdown');
