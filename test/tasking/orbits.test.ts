/**
 * TLE validation/generation, SGP4 against Vallado's published vectors, and the demo constellation.
 */
import assert from 'node:assert/strict';
import { REAL_TLES } from '../helpers/real-tles.js';
import { describe, it } from 'node:test';
import { gstime, propagate, sgp4, twoline2satrec } from 'satellite.js';
import {
  DEMO_FIRST_NORAD_ID,
  TleError,
  demoConstellation,
  formatTle,
  parseTle,
  parseTleFile,
  ssoInclinationDeg,
  tleEpochToDate,
  type ElementSet,
} from '../../src/tasking/orbits/index.js';

const ISS_1 = '1 25544U 98067A   17314.40254821  .00006490  00000-0  10525-3 0  9997';
const ISS_2 = '2 25544  51.6429  29.4166 0004559 104.3372 354.3186 15.54111847 84492';

/** Checksum written out independently of the implementation: digits count, '-' counts 1, mod 10. */
function checksum(line: string): number {
  let s = 0;
  for (const ch of line.slice(0, 68)) s += ch === '-' ? 1 : /\d/.test(ch) ? Number(ch) : 0;
  return s % 10;
}
/** Replaces columns [from, from + text.length) (1-based) and recomputes the checksum, so only the edited field is wrong. */
function edit(line: string, from: number, text: string): string {
  const body = line.slice(0, from - 1) + text + line.slice(from - 1 + text.length, 68);
  return body + checksum(body);
}
function rejects(l1: string, l2: string, reason: RegExp): void {
  assert.throws(
    () => parseTle(l1, l2),
    (err: unknown) => err instanceof TleError && reason.test(err.reason),
    `expected rejection matching ${reason}`,
  );
}

describe('TLE parsing', () => {
  it('the independent checksum agrees with the values in the notes (Vanguard 3 and 7)', () => {
    assert.equal(checksum('1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753'), 3);
    assert.equal(checksum('2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667'), 7);
  });

  it('accepts all 21 real element sets with their names and decodes the ISS fields', () => {
    const { sets, errors } = parseTleFile(REAL_TLES);
    assert.deepEqual(errors, []);
    assert.equal(sets.length, 21);
    assert.equal(new Set(sets.map((s) => s.noradId)).size, 21);
    const iss = sets[0]!;
    assert.equal(iss.name, 'ISS');
    assert.equal(iss.noradId, 25544);
    assert.equal(iss.intlDesignator, '98067A');
    assert.equal(iss.classification, 'U');
    // Day 314 of 2017 = 10 November; 0.40254821 d = 34780.165 s = 09:39:40.165.
    assert.equal(iss.epoch.toISOString(), '2017-11-10T09:39:40.165Z');
    assert.equal(iss.inclinationDeg, 51.6429);
    assert.equal(iss.raanDeg, 29.4166);
    assert.equal(iss.eccentricity, 0.0004559);
    assert.equal(iss.argPerigeeDeg, 104.3372);
    assert.equal(iss.meanAnomalyDeg, 354.3186);
    assert.equal(iss.meanMotionRevPerDay, 15.54111847);
    assert.equal(iss.revolutionNumber, 8449);
    assert.equal(iss.elementSetNumber, 999);
    assert.ok(Math.abs(iss.bstar - 1.0525e-4) < 1e-15);
    assert.ok(Math.abs(iss.meanMotionDot - 6.49e-5) < 1e-15);
    const s5p = sets.find((s) => s.noradId === 42969)!;
    assert.ok(Math.abs(s5p.bstar + 4.914e-5) < 1e-15, 'negative B*');
    assert.ok(Math.abs(s5p.meanMotionDot + 1.47e-6) < 1e-15, 'negative ṅ/2');
  });

  it('reads 2-line sets, CRLF, trailing blanks and Space-Track "0 " name lines', () => {
    const crlf = `0 ISS (ZARYA)   \r\n${ISS_1}  \r\n${ISS_2}\r\n\r\n${REAL_TLES.split('\n').slice(4, 6).join('\n')}\n`;
    const { sets, errors } = parseTleFile(crlf);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      sets.map((s) => [s.name, s.noradId]),
      [
        ['ISS (ZARYA)', 25544],
        ['NORAD 37673', 37673],
      ],
    );
  });

  it('rejects every malformed variant with a reason', () => {
    rejects(ISS_1.slice(0, 68), ISS_2, /line 1: length is 68, must be 69/);
    rejects(ISS_1, ISS_2 + 'X', /line 2: length is 70/);
    rejects('3' + ISS_1.slice(1), ISS_2, /line 1: line number is '3'/);
    rejects(ISS_1, ISS_1, /line 2: line number is '1'/);
    rejects(ISS_1.slice(0, 68) + '8', ISS_2, /line 1: checksum is 7, column 69 says 8/);
    rejects(ISS_1, ISS_2.slice(0, 68) + 'x', /line 2: checksum column 69 'x' is not a digit/);
    rejects(ISS_1, edit(ISS_2, 3, '25545'), /catalogue numbers differ: line 1 says 25544, line 2 says 25545/);
    rejects(edit(ISS_1, 3, '2554x'), ISS_2, /catalogue number '2554x' is not a number/);
    rejects(ISS_1, edit(ISS_2, 9, ' 51.6a29'), /inclination \(columns 9–16\) ' 51.6a29' is malformed/);
    rejects(ISS_1, edit(ISS_2, 27, '00.4559'), /eccentricity \(columns 27–33\)/);
    rejects(ISS_1, edit(ISS_2, 53, '15.5411184 '), /mean motion \(columns 53–63\)/);
    rejects(edit(ISS_1, 54, ' 1052X-3'), ISS_2, /bstar \(columns 54–61\)/);
    rejects(edit(ISS_1, 34, ' 0.0006490'), ISS_2, /mean motion first derivative/);
    rejects(edit(ISS_1, 21, '314,40254821'), ISS_2, /epoch day \(columns 21–32\)/);
    rejects(edit(ISS_1, 8, 'X'), ISS_2, /classification/);
    rejects(edit(ISS_1, 9, '9'), ISS_2, /line 1: column 9 must be blank/);
    rejects(edit(ISS_1, 19, '17366.50000000'), ISS_2, /epoch day 366\.5 is outside 1–366 \(exclusive\) for 2017/);
    rejects(edit(ISS_1, 19, '17000.50000000'), ISS_2, /epoch day 0\.5 is outside/);
    rejects(ISS_1, edit(ISS_2, 9, '181.0000'), /inclination 181 is outside \[0, 180\]/);
    rejects(ISS_1, edit(ISS_2, 18, '360.5000'), /right ascension of the ascending node 360\.5 is outside/);
    rejects(ISS_1, edit(ISS_2, 53, ' 0.00000000'), /mean motion 0 must be > 0/);
    // Day 366 is fine in a leap year.
    const leap = parseTle(edit(ISS_1, 19, '16366.50000000'), ISS_2);
    assert.equal(leap.epoch.toISOString(), '2016-12-31T12:00:00.000Z');
  });

  it('reports bad sets in a file by index, line and name, and keeps the good ones', () => {
    const text = [
      'GOOD',
      ISS_1,
      ISS_2,
      'BROKEN',
      ISS_1.slice(0, 68) + '0',
      ISS_2,
      'ORPHAN NAME',
      'LONELY LINE 1',
      ISS_1,
      'LONELY LINE 2',
      ISS_2,
      'GOOD AGAIN',
      ISS_1,
      ISS_2,
    ].join('\n');
    const { sets, errors } = parseTleFile(text);
    assert.deepEqual(
      sets.map((s) => s.name),
      ['GOOD', 'GOOD AGAIN'],
    );
    assert.deepEqual(
      errors.map((e) => [e.index, e.line, e.name]),
      [
        [1, 5, 'BROKEN'],
        [2, 7, 'ORPHAN NAME'],
        [3, 9, 'LONELY LINE 1'],
        [4, 11, 'LONELY LINE 2'],
      ],
    );
    assert.match(errors[0]!.reason, /checksum/);
    assert.match(errors[1]!.reason, /not followed by element lines/);
    assert.match(errors[2]!.reason, /line 1 is not followed by a line 2/);
    assert.match(errors[3]!.reason, /line 2 without a preceding line 1/);
  });
});

describe('TLE epochs', () => {
  const iso = (yy: number, day: number): string => tleEpochToDate(yy, day).toISOString();
  it('pivots two-digit years at 57 (1957–2056)', () => {
    assert.equal(iso(57, 1), '1957-01-01T00:00:00.000Z');
    assert.equal(iso(99, 365.5), '1999-12-31T12:00:00.000Z');
    assert.equal(iso(0, 1), '2000-01-01T00:00:00.000Z');
    assert.equal(iso(56, 1.5), '2056-01-01T12:00:00.000Z');
  });
  it('counts days from 1 and honours leap days', () => {
    assert.equal(iso(0, 60), '2000-02-29T00:00:00.000Z'); // 2000 is a leap year (divisible by 400)
    assert.equal(iso(1, 60), '2001-03-01T00:00:00.000Z');
    assert.equal(iso(20, 366.25), '2020-12-31T06:00:00.000Z');
    assert.equal(iso(0, 366.75), '2000-12-31T18:00:00.000Z');
    assert.equal(iso(17, 32.041666666), '2017-02-01T01:00:00.000Z');
    assert.throws(() => tleEpochToDate(21, 366.1), TleError);
    assert.throws(() => tleEpochToDate(99, 366), TleError); // 1999 is not a leap year
    assert.throws(() => tleEpochToDate(20, 0.5), TleError);
    assert.throws(() => tleEpochToDate(20, 367), TleError);
  });
});

describe('formatTle', () => {
  it('reproduces all 21 real element sets character for character', () => {
    for (const s of parseTleFile(REAL_TLES).sets) {
      assert.deepEqual(formatTle(s), { line1: s.line1, line2: s.line2 }, s.name);
    }
  });

  it('round-trips generated elements through parseTle (exponent fields, signs, Alpha-5, year end)', () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 200; k++) {
      const el = {
        noradId: k === 0 ? 100_001 : k === 1 ? 339_999 : Math.floor(rand() * 99_999),
        epoch: new Date(Date.UTC(1957 + Math.floor(rand() * 100), 0, 1) + rand() * 365 * 86_400_000),
        inclinationDeg: rand() * 180,
        raanDeg: rand() * 360,
        eccentricity: rand() * 0.9,
        argPerigeeDeg: rand() * 360,
        meanAnomalyDeg: rand() * 360,
        meanMotionRevPerDay: 0.5 + rand() * 16,
        bstar: (rand() - 0.5) * 10 ** -Math.floor(rand() * 12),
        meanMotionDot: (rand() - 0.5) * 1e-3,
        meanMotionDdot: (rand() - 0.5) * 1e-9,
        revolutionNumber: Math.floor(rand() * 99_999),
        elementSetNumber: Math.floor(rand() * 9_999),
      };
      const { line1, line2 } = formatTle(el);
      assert.equal(line1.length, 69);
      assert.equal(line2.length, 69);
      assert.equal(Number(line1[68]), checksum(line1));
      assert.equal(Number(line2[68]), checksum(line2));
      const back = parseTle(line1, line2);
      assert.equal(back.noradId, el.noradId);
      assert.ok(Math.abs(back.epoch.getTime() - el.epoch.getTime()) <= 1, 'epoch to the millisecond');
      for (const key of ['inclinationDeg', 'raanDeg', 'argPerigeeDeg', 'meanAnomalyDeg'] as const) {
        const d = Math.abs(back[key] - el[key]);
        assert.ok(Math.min(d, 360 - d) <= 0.5e-4 + 1e-12, `${key} ${el[key]} → ${back[key]}`);
      }
      assert.ok(Math.abs(back.eccentricity - el.eccentricity) <= 0.5e-7 + 1e-15);
      assert.ok(Math.abs(back.meanMotionRevPerDay - el.meanMotionRevPerDay) <= 0.5e-8 + 1e-12);
      assert.ok(Math.abs(back.meanMotionDot - el.meanMotionDot) <= 0.5e-8 + 1e-15);
      assert.ok(Math.abs(back.bstar - el.bstar) <= Math.abs(el.bstar) * 1e-4 + 0.5e-14 + 1e-20, `bstar ${el.bstar} → ${back.bstar}`);
      assert.ok(Math.abs(back.meanMotionDdot - el.meanMotionDdot) <= Math.abs(el.meanMotionDdot) * 1e-4 + 0.5e-14 + 1e-20);
      // A second pass is a fixed point.
      assert.deepEqual(formatTle(back), { line1, line2 });
    }
    assert.match(formatTle({ ...parseTle(ISS_1, ISS_2), noradId: 100_001 }).line1, /^1 A0001U/);
  });

  it('keeps the last millisecond of a year in that year, and refuses values the format cannot hold', () => {
    const base = parseTle(ISS_1, ISS_2);
    const late = formatTle({ ...base, epochYear: undefined, epochDayOfYear: undefined, epoch: new Date('2017-12-31T23:59:59.999Z') });
    assert.equal(late.line1.slice(18, 32), '17365.99999999');
    assert.ok(Math.abs(parseTle(late.line1, late.line2).epoch.getTime() - Date.parse('2017-12-31T23:59:59.999Z')) <= 1);
    assert.equal(formatTle({ ...base, bstar: -6.4e-11 }).line1.slice(53, 61), '-06400-9', 'denormalised below 1e-10: 0.06400e-9');
    assert.equal(formatTle({ ...base, bstar: 1e-16 }).line1.slice(53, 61), ' 00000-0');
    assert.equal(formatTle({ ...base, bstar: 0.99999999 }).line1.slice(53, 61), ' 10000+1', 'mantissa carry');
    assert.throws(() => formatTle({ ...base, epochYear: undefined, epoch: new Date('2057-01-01T00:00:00Z') }), RangeError);
    assert.throws(() => formatTle({ ...base, eccentricity: 1 }), RangeError);
    assert.throws(() => formatTle({ ...base, inclinationDeg: 181 }), RangeError);
    assert.throws(() => formatTle({ ...base, meanMotionRevPerDay: 100 }), RangeError);
    assert.throws(() => formatTle({ ...base, bstar: 1e12 }), RangeError);
  });
});

describe('SGP4 (satellite.js) against Vallado et al. 2006, tcppver.out', () => {
  // [minutes since epoch, x, y, z (km), vx, vy, vz (km/s)] copied from tcppver.out (python-sgp4 copy).
  const cases: [string, string, number[][]][] = [
    [
      '1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753',
      '2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667',
      [
        [0, 7022.46529266, -1400.08296755, 0.03995155, 1.893841015, 6.405893759, 4.53480725],
        [360, -7154.03120202, -3783.17682504, -3536.19412294, 4.741887409, -4.151817765, -2.093935425],
        [720, -7134.59340119, 6531.68641334, 3260.27186483, -4.113793027, -2.911922039, -2.557327851],
      ],
    ],
    [
      '1 06251U 62025E   06176.82412014  .00008885  00000-0  12808-3 0  3985',
      '2 06251  58.0579  54.0425 0030035 139.1568 221.1854 15.56387291  6774',
      [
        [0, 3988.31022699, 5498.96657235, 0.90055879, -3.290032738, 2.35765282, 6.496623475],
        [120, -3935.69800083, 409.10980837, 5471.33577327, -3.374784183, -6.635211043, -1.942056221],
      ],
    ],
    [
      '1 28057U 03049A   06177.78615833  .00000060  00000-0  35940-4 0  1836',
      '2 28057  98.4283 247.6961 0000884  88.1964 271.9322 14.35478080140550',
      [
        [1440, 688.16056594, 4124.87618964, 5794.55994449, 2.810973665, 5.479585563, -4.224866316],
        [2880, 1788.4233458, 1990.50530957, -6640.59337725, -2.074169091, -6.683381288, -2.562777776],
      ],
    ],
  ];
  for (const [l1, l2, rows] of cases) {
    it(`reproduces catalogue ${l1.slice(2, 7)} to 1e-5 km and 1e-8 km/s`, () => {
      const el = parseTle(l1, l2); // the verification sets are valid TLEs too
      const rec = twoline2satrec(el.line1, el.line2);
      for (const [t, ...expected] of rows) {
        const pv = sgp4(rec, t!);
        assert.ok(pv, `propagation at ${t} min`);
        const got = [pv.position.x, pv.position.y, pv.position.z, pv.velocity.x, pv.velocity.y, pv.velocity.z];
        got.forEach((g, i) =>
          assert.ok(Math.abs(g - expected[i]!) < (i < 3 ? 1e-5 : 1e-8), `t=${t} component ${i}: ${g} vs ${expected[i]}`),
        );
      }
    });
  }
});

describe('demo constellation', () => {
  const epoch = new Date('2026-01-01T00:00:00Z');
  const fleet = demoConstellation(epoch);

  it('has 10 valid element sets with ids from 99001 and distinct names', () => {
    assert.equal(fleet.length, 10);
    assert.deepEqual(
      fleet.map((s) => s.noradId),
      Array.from({ length: 10 }, (_, i) => DEMO_FIRST_NORAD_ID + i),
    );
    assert.equal(new Set(fleet.map((s) => s.name)).size, 10);
    for (const s of fleet) {
      assert.equal(Number(s.line1[68]), checksum(s.line1));
      assert.equal(Number(s.line2[68]), checksum(s.line2));
      assert.deepEqual(parseTle(s.line1, s.line2, s.name), s);
      assert.equal(s.epoch.toISOString(), epoch.toISOString());
    }
  });

  it('is sun-synchronous: J2 inclination ~97.4–97.6° and RAAN drifting 0.9856°/day under SGP4', () => {
    assert.ok(Math.abs(ssoInclinationDeg(500) - 97.4) < 0.01, `500 km: ${ssoInclinationDeg(500)}`);
    for (const s of fleet) {
      assert.ok(s.inclinationDeg > 97.3 && s.inclinationDeg < 97.7, `${s.name} i=${s.inclinationDeg}`);
      const rec = twoline2satrec(s.line1, s.line2);
      const om = (days: number): number => propagate(rec, new Date(epoch.getTime() + days * 86_400_000))!.meanElements.Om;
      const drift = (((om(30) - om(0)) * 180) / Math.PI / 30 + 360) % 360;
      assert.ok(Math.abs(drift - 360 / 365.2422) < 0.003, `${s.name} nodal drift ${drift} °/day`);
    }
  });

  it('has periods of ~95 min (94.5–96 min) and altitudes of 490–570 km', () => {
    for (const s of fleet) {
      const period = 1440 / s.meanMotionRevPerDay;
      assert.ok(period > 94.5 && period < 96, `${s.name} period ${period} min`);
      const rec = twoline2satrec(s.line1, s.line2);
      for (let m = 0; m < 95; m += 5) {
        const p = sgp4(rec, m)!.position;
        const h = Math.hypot(p.x, p.y, p.z) - 6378.137;
        assert.ok(h > 470 && h < 575, `${s.name} altitude ${h} km`);
      }
    }
  });

  it('crosses the descending node at ~10:30 local mean solar time', () => {
    const s: ElementSet = fleet[0]!;
    const rec = twoline2satrec(s.line1, s.line2);
    let prevZ: number | undefined;
    let checked = 0;
    for (let sec = 0; sec < 86_400 && checked < 5; sec += 10) {
      const date = new Date(epoch.getTime() + sec * 1000);
      const pv = propagate(rec, date)!;
      const z = pv.position.z;
      if (prevZ !== undefined && prevZ > 0 && z <= 0) {
        const lon = Math.atan2(pv.position.y, pv.position.x) - gstime(date);
        const lonDeg = (((((lon * 180) / Math.PI + 180) % 360) + 360) % 360) - 180;
        const utcHours = (sec / 3600) % 24;
        const lmst = (((utcHours + lonDeg / 15) % 24) + 24) % 24;
        // Equation of time (±16 min) and the mean-vs-apparent Sun are ignored by design.
        assert.ok(Math.abs(lmst - 10.5) < 0.1, `descending node at ${lmst.toFixed(2)} h`);
        checked++;
      }
      prevZ = z;
    }
    assert.ok(checked >= 5, 'found descending node crossings');
  });
});
