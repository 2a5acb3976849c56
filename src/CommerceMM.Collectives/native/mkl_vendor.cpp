// libcmmmklvendor: tells the MKL inside libtorch that the CPU is an Intel one, so that on AMD CPUs
// with AVX-512 (Zen 4 and later) MKL runs its AVX-512 kernels instead of its generic AVX2 "zen" path
// (which ignores MKL_ENABLE_INSTRUCTIONS and MKL_CBWR there). libtorch_cpu.so calls both checks
// through its PLT, so definitions loaded earlier with RTLD_GLOBAL take their place; the sgemm
// dispatcher asks the second one.
// TorchRuntime loads this library before libtorch, and only on such CPUs (MklCpuPath.cs; CONTRIBUTING.md).
// No libtorch or MKL headers: the symbol's C signature is all there is.
extern "C" __attribute__((visibility("default"))) int mkl_serv_intel_cpu()
{
    return 1;
}

extern "C" __attribute__((visibility("default"))) int mkl_serv_intel_cpu_true()
{
    return 1;
}
