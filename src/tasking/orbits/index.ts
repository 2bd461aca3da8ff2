/**
 * Orbital-mechanics core of Skyport's tasking (STAPI) API: TLE validation and generation, the demo
 * constellation and imaging-opportunity (pass) search. Pure functions: no HTTP, no storage.
 */
export {
  TleError,
  formatTle,
  parseTle,
  parseTleFile,
  tleChecksum,
  tleEpochToDate,
  type ElementSet,
  type TleElements,
  type TleFileResult,
} from './tle.js';
export {
  DEMO_FIRST_NORAD_ID,
  DEMO_PLANES,
  demoConstellation,
  meanMotionRevPerDay,
  raanForLtdn,
  ssoInclinationDeg,
  type DemoPlane,
} from './constellation.js';
export {
  PassSearchError,
  PropagationError,
  StaleElementsError,
  findPasses,
  searchPasses,
  type Pass,
  type PassConstraints,
  type PassOptions,
  type PassSearchResult,
  type PassWindow,
} from './passes.js';
export type { GeoJsonMultiPolygon, GeoJsonPoint, GeoJsonPolygon, PassTarget } from './geometry.js';
