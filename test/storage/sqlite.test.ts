import { storageConformanceSuite } from './conformance.js';

storageConformanceSuite('sqlite');
