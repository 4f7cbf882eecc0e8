"""Unit tests for deepfit.hardware.

Numbers asserted here are independent facts (vendor datasheets, SOURCES.md's worked
examples), each with its source in a comment, never values read back from the CSV.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import deepfit.hardware as hw
from deepfit.errors import (
    BadInputError,
    CatalogError,
    NotSupportedError,
    UnknownGpuError,
)
from deepfit.hardware import UNKNOWN, Gpu, load_gpu

GB = 10**9
GiB = 2**30
TB_S = 10**12  # TB/s in bytes/s
TERA = 1e12

# shared/CONTRACT.md "Naming things" -> the catalogue row each name must mean.
CONTRACT_NAMES = {
    "H100": "H100 SXM",  # CONTRACT: `H100` (= H100 SXM 80GB)
    "H100-PCIe": "H100 PCIe",
    "H200": "H200 SXM",
    "H800": "H800 SXM",
    "H20": "H20",
    "A100-80GB": "A100 80GB SXM4",
    "A100-40GB": "A100 40GB SXM4",
    "L40S": "L40S",
    "L40": "L40",
    "L4": "L4",
    "A10G": "A10G",
    "T4": "T4",
    "V100": "V100 16GB SXM2",
    "RTX4090": "RTX 4090",
    "RTX3090": "RTX 3090",
    "A6000": "RTX A6000",
    "MI300X": "Instinct MI300X",
    "B200": "B200 (HGX, SXM)",
}


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "row"), sorted(CONTRACT_NAMES.items()))
def test_contract_names_resolve(name: str, row: str) -> None:
    assert load_gpu(name).name == row
    assert load_gpu(name.lower()).name == row
    assert load_gpu(name.upper()).name == row


@pytest.mark.parametrize(
    "spelling", ["h100", "H100 SXM", "h100-sxm", "H100_SXM", "  nvidia h100 sxm ", "H100-SXM5"]
)
def test_lookup_ignores_case_and_punctuation(spelling: str) -> None:
    assert load_gpu(spelling) is load_gpu("H100")


@pytest.mark.parametrize(
    ("alias", "row"),
    [
        ("A100", "A100 80GB SXM4"),  # the brief: bare "A100" means the 80GB SXM4 part
        ("4090", "RTX 4090"),
        ("RTX-4090", "RTX 4090"),
        ("MI300", "Instinct MI300X"),
        ("B300", "B300 (HGX, SXM, Blackwell Ultra)"),
        ("GB200", "GB200 (per Blackwell GPU in NVL72)"),
        ("H200-NVL", "H200 NVL"),
        ("H100-NVL", "H100 NVL"),
        ("RTX5090", "RTX 5090"),
        ("RTX6000-Ada", "RTX 6000 Ada"),
        ("MI325X", "Instinct MI325X"),
        ("MI355X", "Instinct MI355X"),
        ("Gaudi3", "Gaudi 3"),
        ("Tesla T4", "T4"),
    ],
)
def test_extra_aliases(alias: str, row: str) -> None:
    assert load_gpu(alias).name == row


def test_every_row_answers_to_its_name_and_aliases() -> None:
    for gpu in hw.list_gpus():
        assert load_gpu(gpu.name) is gpu
        for alias in gpu.aliases:
            assert load_gpu(alias) is gpu, alias


def test_unknown_gpu_suggests_close_names() -> None:
    with pytest.raises(UnknownGpuError) as info:
        load_gpu("H10O")  # letter O for zero
    assert isinstance(info.value, BadInputError)  # exit code 2 in the CLI
    assert "H100" in info.value.hint
    assert "deepfit gpus" in info.value.hint


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=40))
def test_any_string_is_a_gpu_or_unknown(name: str) -> None:
    with contextlib.suppress(UnknownGpuError):
        assert isinstance(load_gpu(name), Gpu)


# --- datasheet facts ----------------------------------------------------------------------


def test_h100_sxm_matches_datasheet() -> None:
    gpu = load_gpu("H100")
    # NVIDIA H100 Tensor Core GPU datasheet, H100 SXM column: 80 GB, 3.35 TB/s, NVLink 900 GB/s.
    assert gpu.memory_bytes == 80 * GB
    assert gpu.require_mem_bandwidth_bytes_per_s() == pytest.approx(3.35 * TB_S)
    assert gpu.interconnect_bidir_bytes_per_s == pytest.approx(900 * GB)
    # Same datasheet: BF16 1,979 TFLOPS and FP8 3,958 TFLOPS "shown with sparsity";
    # dense is half (SOURCES.md, "Dense vs sparse").
    assert gpu.peak_flops("bf16") == pytest.approx(1979 * TERA / 2)
    assert gpu.peak_flops("fp8") == pytest.approx(3958 * TERA / 2)


def test_a100_matches_datasheet() -> None:
    # NVIDIA A100 datasheet: 80GB SXM 2,039 GB/s; 40GB 1,555 GB/s; BF16 312 TFLOPS dense.
    a80, a40 = load_gpu("A100-80GB"), load_gpu("A100-40GB")
    assert a80.memory_bytes == 80 * GB and a40.memory_bytes == 40 * GB
    assert a80.mem_bandwidth_bytes_per_s == pytest.approx(2039 * GB)
    assert a40.mem_bandwidth_bytes_per_s == pytest.approx(1555 * GB)
    assert a80.peak_flops("BF16") == pytest.approx(312 * TERA)
    assert a80.peak_flops("bfloat16") == a80.peak_flops("bf16")


@pytest.mark.parametrize(
    ("name", "memory_gb", "bandwidth_gb_s"),
    [
        ("H200", 141, 4800),  # NVIDIA H200 datasheet: 141 GB HBM3e, 4.8 TB/s
        ("MI300X", 192, 5300),  # AMD Instinct MI300X datasheet: 192 GB HBM3, 5.3 TB/s
        ("L4", 24, 300),  # NVIDIA L4 datasheet: 24 GB GDDR6, 300 GB/s
        ("H100-PCIe", 80, 2000),  # NVIDIA H100 datasheet, PCIe column: 80 GB, 2 TB/s
    ],
)
def test_memory_and_bandwidth_match_datasheets(
    name: str, memory_gb: int, bandwidth_gb_s: int
) -> None:
    gpu = load_gpu(name)
    assert gpu.require_memory_bytes() == memory_gb * GB
    assert gpu.require_mem_bandwidth_bytes_per_s() == pytest.approx(bandwidth_gb_s * GB)


def test_sparse_figures_are_halved() -> None:
    # SOURCES.md: L4 BF16 is 242* sparse -> 121 dense; B200 FP4 18 PF sparse -> 9 PF dense.
    assert load_gpu("L4").peak_flops("bf16") == pytest.approx(242 * TERA / 2)
    assert load_gpu("B200").peak_flops("fp4") == pytest.approx(18e15 / 2)


# --- unsupported vs unknown ---------------------------------------------------------------


def test_fp8_on_a100_is_not_supported() -> None:
    gpu = load_gpu("A100")
    assert not gpu.supports("fp8")  # Ampere has no FP8 tensor cores (A100 datasheet)
    with pytest.raises(NotSupportedError) as info:
        gpu.peak_flops("fp8")
    assert isinstance(info.value, BadInputError)  # exit code 2 in the CLI
    assert "bf16" in info.value.hint  # says what it does support


def test_bf16_on_turing_and_volta_is_not_supported() -> None:
    # BF16 arrived with Ampere; T4 (Turing) and V100 (Volta) have none.
    for name in ("T4", "V100"):
        with pytest.raises(NotSupportedError):
            load_gpu(name).peak_flops("bf16")


def test_unknown_numbers_raise_catalog_error_not_guess() -> None:
    # SOURCES.md "Not sourced": RTX 6000 Ada tensor TFLOPS, A800 memory bandwidth.
    ada = load_gpu("RTX6000-Ada")
    assert ada.supports("bf16")  # unknown is not unsupported
    assert ada.peak_ops_per_s.bf16 is UNKNOWN
    with pytest.raises(CatalogError):
        ada.peak_flops("bf16")
    with pytest.raises(CatalogError):
        load_gpu("A800").require_mem_bandwidth_bytes_per_s()
    assert "mem_bandwidth_bytes_per_s" in load_gpu("A800").to_dict()["unknown_fields"]
    assert load_gpu("A800").unusable_for()["perf"] == "no sourced memory bandwidth"
    assert "memory" not in load_gpu("A800").unusable_for()


def test_rtx3090_bf16_is_the_fp32_accumulate_rate() -> None:
    # GA102 whitepaper, RTX 3090: BF16 tensor with FP32 accumulate 71 TFLOPS dense, half the
    # FP16-accumulate 142 the fp16 column holds.
    gpu = load_gpu("RTX3090")
    assert gpu.peak_flops("bf16") == 71e12
    assert gpu.peak_flops("bf16") == gpu.peak_flops("fp16") / 2


def test_an_unsourced_rate_is_never_replaced_by_another() -> None:
    """RTX 6000 Ada has an fp32 figure but no sourced tensor rate: the roofline must not
    run its bf16 matmuls at the fp32 peak (4x slower than the card), it must say so."""
    from deepfit.perf.roofline import matmul_dtype

    with pytest.raises(CatalogError):
        matmul_dtype(load_gpu("RTX6000-Ada"), "bf16")
    assert matmul_dtype(load_gpu("V100"), "bf16") == "fp16"  # V100 has no bf16 at all
    assert matmul_dtype(load_gpu("A100-80GB"), "fp8") == "bf16"  # weight-only upcast


def test_unknown_compute_format_is_bad_input() -> None:
    with pytest.raises(BadInputError):
        load_gpu("H100").peak_flops("fp7")


# --- the whole catalogue ------------------------------------------------------------------


def test_every_gpu_row_loads_with_a_source() -> None:
    gpus = hw.list_gpus()
    assert len(gpus) == 41  # SOURCES.md: gpus.csv has 41 rows
    for gpu in gpus:
        assert gpu.source.strip(), gpu.name
        assert gpu.vendor


def test_to_dict_is_json_serialisable() -> None:
    items = [*hw.list_gpus(), *hw.list_instances(), *hw.list_networks(), load_gpu("cpu")]
    for item in items:
        json.loads(json.dumps(item.to_dict(), allow_nan=False))
    assert load_gpu("H100").to_dict()["memory_bytes"] == 80 * GB


def test_every_instance_gpu_resolves() -> None:
    instances = hw.list_instances()
    assert len(instances) == 58  # SOURCES.md: instances.csv has 58 rows
    for inst in instances:
        assert inst.gpu is not None, inst.gpu_as_listed
        assert inst.gpu_count >= 1


def test_instance_gpu_memory_matches_its_listed_name() -> None:
    # A listed "A100 40GB SXM" must not land on an 80 GB row. Exception: Hyperstack's
    # "B200 192GB" is the physical HBM; the catalogue row holds the 180 GB HGX B200 exposes
    # (SOURCES.md, "Known conflicts").
    for inst in hw.list_instances():
        match = re.search(r"(\d+)\s*GB", inst.gpu_as_listed)
        if match and inst.gpu_as_listed != "B200 192GB":
            assert inst.gpu is not None
            assert inst.gpu.memory_bytes == int(match.group(1)) * GB, inst.key


def test_instance_prices_agree_per_gpu() -> None:
    for inst in hw.list_instances():
        if inst.usd_per_hour is not None and inst.usd_per_gpu_hour is not None:
            per_gpu = inst.usd_per_hour / inst.gpu_count
            assert per_gpu == pytest.approx(inst.usd_per_gpu_hour, rel=0.01), inst.key


def test_list_instances_filters_by_gpu() -> None:
    h100 = hw.list_instances("h100")
    assert h100 and all(i.gpu is load_gpu("H100") for i in h100)
    assert any(i.instance == "p5.48xlarge" for i in h100)  # AWS P5 = 8x H100 SXM
    with pytest.raises(UnknownGpuError):
        hw.list_instances("no-such-gpu")


def test_host_memory_uses_the_sources_unit() -> None:
    # AWS EC2 docs: p4d.24xlarge has 1152 GiB of memory.
    p4d = next(i for i in hw.list_instances() if i.instance == "p4d.24xlarge")
    assert p4d.host_memory_bytes == 1152 * GiB


def test_networks() -> None:
    nets = {n.name: n for n in hw.list_networks()}
    assert len(nets) == 21  # SOURCES.md: networks.csv has 21 rows
    nvlink4 = nets["NVLink 4 (HGX/DGX H100/H200)"]
    # NVIDIA H100 datasheet: NVLink 900 GB/s; HGX H100 boards hold 8 GPUs.
    assert nvlink4.per_gpu_bidir_bytes_per_s == pytest.approx(900 * GB)
    assert nvlink4.domain_size_gpus == 8
    ndr = nets["InfiniBand NDR 400 Gb/s (1 HCA per GPU)"]
    assert ndr.per_gpu_unidir_bytes_per_s == pytest.approx(400e9 / 8)  # 400 Gb/s = 50 GB/s


# --- user catalogues ----------------------------------------------------------------------


def _user_csv(tmp_path: Path, **overrides: str) -> Path:
    header = Path(hw.__file__).parent.joinpath("data", "gpus.csv").read_text().splitlines()[0]
    columns = header.split(",")
    row = dict.fromkeys(columns, "")
    row.update(
        name="My Accelerator",
        deepfit_alias="myacc;my-acc-2",
        vendor="Acme",
        memory_gb="64",
        mem_bandwidth_gbps="2000",
        bf16_tflops_dense="500",
        fp8_tflops_dense="n/a",
        source="measured in our lab",
    )
    row.update(overrides)
    path = tmp_path / "my_gpus.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerow(row[c] for c in columns)
    return path


def test_user_catalogue_adds_gpus(tmp_path: Path) -> None:
    catalog = hw.load_gpu_catalog(_user_csv(tmp_path))
    mine = catalog.get("MYACC")
    assert mine is catalog.get("my acc 2") is catalog.get("My Accelerator")
    assert mine.memory_bytes == 64 * GB
    assert mine.peak_flops("bf16") == pytest.approx(500 * TERA)
    with pytest.raises(NotSupportedError):
        mine.peak_flops("fp8")
    assert load_gpu("h100", catalog) == load_gpu("H100")  # bundled GPUs still there
    only_mine = hw.load_gpu_catalog(_user_csv(tmp_path), include_bundled=False)
    assert len(only_mine) == 1


def test_user_row_overrides_bundled_row(tmp_path: Path) -> None:
    catalog = hw.load_gpu_catalog(_user_csv(tmp_path, name="B200 (HGX, SXM)", memory_gb="192"))
    assert catalog.get("B200").memory_bytes == 192 * GB


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"memory_gb": "lots"}, "memory_gb"),
        ({"bf16_tflops_dense": "-5"}, "bf16_tflops_dense"),
        ({"mem_bandwidth_gbps": "n/a"}, "mem_bandwidth_gbps"),
        ({"launch_year": "2024.5"}, "launch_year"),
        ({"source": ""}, "source"),
    ],
)
def test_malformed_user_csv_names_file_row_and_column(
    tmp_path: Path, overrides: dict[str, str], column: str
) -> None:
    path = _user_csv(tmp_path, **overrides)
    with pytest.raises(CatalogError) as info:
        hw.load_gpu_catalog(path)
    message = str(info.value)
    assert "my_gpus.csv" in message and "row 1" in message and column in message


def test_user_csv_missing_columns_or_cells(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("name,vendor\nX,Acme\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="lacks the column"):
        hw.load_gpu_catalog(path)
    path = _user_csv(tmp_path)
    path.write_text(path.read_text() + "Extra,Row\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="row 2"):
        hw.load_gpu_catalog(path)
    with pytest.raises(CatalogError, match="cannot read"):
        hw.load_gpu_catalog(tmp_path / "absent.csv")


def test_user_csv_may_not_take_the_name_cpu(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="reserved"):
        hw.load_gpu_catalog(_user_csv(tmp_path, name="CPU"))


# --- cpu ----------------------------------------------------------------------------------


def test_cpu_is_probed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEEPFIT_CPU_BANDWIDTH_GBPS", raising=False)
    monkeypatch.delenv("DEEPFIT_CPU_GFLOPS", raising=False)
    cpu = load_gpu("CPU")
    assert cpu.name == "cpu"
    if sys.platform.startswith("linux"):
        assert cpu.require_memory_bytes() > 0
    with pytest.raises(CatalogError):  # no datasheet for this machine's bandwidth
        cpu.require_mem_bandwidth_bytes_per_s()
    with pytest.raises(CatalogError):
        cpu.peak_flops("fp32")
    assert "DEEPFIT_CPU_GFLOPS" in cpu.notes


def test_cpu_numbers_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPFIT_CPU_BANDWIDTH_GBPS", "100")
    monkeypatch.setenv("DEEPFIT_CPU_GFLOPS", "2500")
    cpu = load_gpu("cpu")
    assert cpu.require_mem_bandwidth_bytes_per_s() == pytest.approx(100e9)
    assert cpu.peak_flops("bf16") == pytest.approx(2.5e12)
    monkeypatch.setenv("DEEPFIT_CPU_GFLOPS", "fast")
    with pytest.raises(BadInputError, match="DEEPFIT_CPU_GFLOPS"):
        load_gpu("cpu")


# --- structure ----------------------------------------------------------------------------


def test_nothing_is_parsed_at_import() -> None:
    src = str(Path(hw.__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": src}
    code = "import deepfit.hardware as h; print(h.bundled_gpu_catalog.cache_info().currsize)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "0"


def test_hardware_does_not_import_the_cli() -> None:
    for module in Path(hw.__file__).parent.glob("*.py"):
        assert "deepfit.cli" not in module.read_text(), module.name


def test_public_names_are_pinned() -> None:
    assert set(hw.__all__) == {
        "COMPUTE_FORMATS", "NOT_SUPPORTED", "UNKNOWN", "CloudInstance", "Gpu", "GpuCatalog",
        "Missing", "Network", "PeakRates", "Rate", "bundled_gpu_catalog", "compute_format",
        "list_gpus", "list_instances", "list_networks", "load_gpu", "load_gpu_catalog",
        "probe_cpu",
    }  # fmt: skip
