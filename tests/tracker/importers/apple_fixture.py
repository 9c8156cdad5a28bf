"""Apple Health exports built at test time: Apple's real preamble (tests/data/apple_health), rows from the model."""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr
from zoneinfo import ZoneInfo

from tests.conftest import REPO
from tests.tracker.importers.gb_fixture import START_MS, Night
from tracker.physiology import PersonSpec, simulate

DTD = (REPO / "tests" / "data" / "apple_health" / "export_dtd_v14.txt").read_text(encoding="utf-8")
TZ = ZoneInfo("Europe/Berlin")
WATCH = "Ana’s Apple Watch"
WATCH_DEVICE = "<<HKDevice: 0x283d3c1e0>, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:10.1>"
PHONE = "Ana’s iPhone"
PHONE_DEVICE = "<<HKDevice: 0x283d3c2a0>, name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone14,5, software:17.1>"
APPLE_STAGE = {"light": "AsleepCore", "deep": "AsleepDeep", "rem": "AsleepREM", "awake": "Awake"}


def preamble() -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [{DTD}]>\n<HealthData locale="de_DE">\n'


def apple_time(t_ms: int) -> str:
    return dt.datetime.fromtimestamp(t_ms / 1000, TZ).strftime("%Y-%m-%d %H:%M:%S %z")


def record(rtype: str, t0: int, t1: int, value: str, unit: str | None = None, source: str = WATCH,
           device: str = WATCH_DEVICE, inner: str = "") -> str:  # fmt: skip
    unit_attr = f" unit={quoteattr(unit)}" if unit else ""
    head = (f" <Record type={quoteattr(rtype)} sourceName={quoteattr(source)} sourceVersion=\"10.1\" "
            f"device={quoteattr(device)}{unit_attr} creationDate=\"{apple_time(t1)}\" startDate=\"{apple_time(t0)}\" "
            f"endDate=\"{apple_time(t1)}\" value={quoteattr(value)}")  # fmt: skip
    return head + (f">\n{inner} </Record>\n" if inner else "/>\n")


@dataclass
class AppleExpected:
    hr: list[tuple[int, int]] = field(default_factory=list)
    sleep: list[tuple[int, int, str]] = field(default_factory=list)
    metrics: list[tuple[int, str, float]] = field(default_factory=list)
    ignored_phone_hr: int = 0


def build(path: Path, as_zip: bool = False, seed: int = 8) -> AppleExpected:
    # 30 days after the Gadgetbridge fixture's nights, so both can be imported for one person side by side
    sim = simulate(PersonSpec(), START_MS + 30 * 86_400_000, 3, seed=seed)
    night = Night(sim, 1)
    exp = AppleExpected()
    parts = [preamble(), f' <ExportDate value="{apple_time(night.wake_min)}"/>\n',
             ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-04-02" HKCharacteristicTypeIdentifierBiologicalSex='
             '"HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" '
             'HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" '
             'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>\n']  # fmt: skip
    for i, (t, hr) in enumerate(zip(night.t_ms, night.hr, strict=True)):
        if i % 4 or hr <= 0:
            continue
        inner = '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/>\n'
        parts.append(record("HKQuantityTypeIdentifierHeartRate", int(t), int(t), str(int(hr)), "count/min", inner=inner))
        exp.hr.append((int(t), int(hr)))
    # the same kind of reading from a phone app is ignored (phone-only source)
    for t in night.t_ms[:3]:
        parts.append(record("HKQuantityTypeIdentifierHeartRate", int(t) + 1000, int(t) + 1000, "88", "count/min",
                            source=PHONE, device=PHONE_DEVICE))  # fmt: skip
        exp.ignored_phone_hr += 1
    parts.append(record("HKCategoryTypeIdentifierSleepAnalysis", night.bed_min, night.wake_min,
                        "HKCategoryValueSleepAnalysisInBed"))  # fmt: skip
    for start, end, stage in night.all_runs():
        parts.append(record("HKCategoryTypeIdentifierSleepAnalysis", start, end, f"HKCategoryValueSleepAnalysis{APPLE_STAGE[stage]}"))
        exp.sleep.append((start, end, stage))
    nap0 = night.wake_min + 5 * 3_600_000
    parts.append(record("HKCategoryTypeIdentifierSleepAnalysis", nap0, nap0 + 1_200_000,
                        "HKCategoryValueSleepAnalysisAsleepUnspecified"))  # fmt: skip
    exp.sleep.append((nap0, nap0 + 1_200_000, "asleep"))
    for k, sdnn in enumerate((38.2, 45.75, 51.0)):
        t = night.bed_min + (k + 1) * 3_600_000
        bpms = "".join(f'   <InstantaneousBeatsPerMinute bpm="{60 + j % 3}" time="{dt.datetime.fromtimestamp((t + 900 * j) / 1000, TZ).strftime("%-I:%M:%S.%f")[:-4]} PM"/>\n' for j in range(5))
        inner = f"  <HeartRateVariabilityMetadataList>\n{bpms}  </HeartRateVariabilityMetadataList>\n"
        parts.append(record("HKQuantityTypeIdentifierHeartRateVariabilitySDNN", t, t + 60_000, str(sdnn), "ms", inner=inner))
        exp.metrics.append((t, "sdnn_ms", sdnn))
    parts.append(record("HKQuantityTypeIdentifierRestingHeartRate", night.wake_min, night.wake_min, "51", "count/min"))
    exp.metrics.append((night.wake_min, "resting_hr_bpm", 51.0))
    parts.append(record("HKQuantityTypeIdentifierStepCount", night.wake_min, night.wake_min + 600_000, "512", "count",
                        source=PHONE, device=PHONE_DEVICE))  # fmt: skip
    parts.append(' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="Omron" creationDate="'
                 f'{apple_time(night.wake_min)}" startDate="{apple_time(night.wake_min)}" endDate="{apple_time(night.wake_min)}">\n'
                 + record("HKQuantityTypeIdentifierBloodPressureSystolic", night.wake_min, night.wake_min, "118", "mmHg", source="Omron")
                 + " </Correlation>\n")  # fmt: skip
    parts.append(record("HKQuantityTypeIdentifierBloodPressureSystolic", night.wake_min, night.wake_min, "118", "mmHg", source="Omron"))
    parts.append(f' <Workout workoutActivityType="HKWorkoutActivityTypeWalking" duration="30" durationUnit="min" '
                 f'sourceName="{WATCH}" startDate="{apple_time(nap0)}" endDate="{apple_time(nap0 + 1_800_000)}"/>\n')  # fmt: skip
    parts.append("</HealthData>\n")
    text = "".join(parts)
    if as_zip:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("apple_health_export/export.xml", text)
            zf.writestr("apple_health_export/export_cda.xml", "<?xml version=\"1.0\"?><ClinicalDocument/>")
    else:
        path.write_text(text, encoding="utf-8")
    return exp


BOMB = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<HealthData locale="en_US"><Record type="HKQuantityTypeIdentifierHeartRate" sourceName="&lol3;" unit="count/min"
 startDate="2027-01-01 00:00:00 +0000" endDate="2027-01-01 00:00:00 +0000" value="60"/></HealthData>
"""
EXTERNAL = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData ANY>
<!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<HealthData locale="en_US"><Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Apple Watch &xxe;"
 unit="count/min" startDate="2027-01-01 00:00:00 +0000" endDate="2027-01-01 00:00:00 +0000" value="60"/></HealthData>
"""
EXTERNAL_DTD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData SYSTEM "http://example.invalid/health.dtd">
<HealthData locale="en_US"></HealthData>
"""
