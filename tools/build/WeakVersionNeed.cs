// Marks one symbol-version requirement of an ELF shared library as weak (VER_FLG_WEAK), so the dynamic
// loader accepts a libstdc++ that lacks that version. Why: TorchSharp's libLibTorchSharp.so asks for
// GLIBCXX_3.4.32 (GCC 13), Debian 12's libstdc++ stops at 3.4.30, and the one symbol tagged with that
// version (_ZSt21ios_base_library_initv) is never relocated against (PLATFORM.md). Used by the build
// (Directory.Build.targets, as an inline MSBuild task) and by its tests; no dependencies beyond the BCL.
using System;
using System.IO;
using System.Text;
#if !CMM_ELF_TESTS
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
#endif

namespace CommerceMM.Build
{
    public enum WeakVersionResult { Patched, AlreadyWeak, NotRequired }

    public static class WeakVersionNeed
    {
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const ushort VerFlgWeak = 0x2;

        /// <summary>
        /// Sets VER_FLG_WEAK on every Vernaux entry named version. The file is rewritten through a
        /// temporary file and a rename, so a hard-linked copy (the NuGet cache's) is never modified.
        /// </summary>
        public static WeakVersionResult Apply(string path, string version)
        {
            byte[] elf = File.ReadAllBytes(path);
            var result = Mark(elf, version, path);
            if (result != WeakVersionResult.Patched) return result;
            // Same size and time as the package's copy, so MSBuild's SkipUnchangedFiles leaves the patched
            // copy in place on the next build: the step stays incremental.
            DateTime written = File.GetLastWriteTimeUtc(path);
            string temp = path + ".weak-tmp";
            File.Copy(path, temp, true);   // a new inode with the same permissions
            File.WriteAllBytes(temp, elf);
            File.SetLastWriteTimeUtc(temp, written);
            File.Delete(path);
            File.Move(temp, path);
            return result;
        }

        /// <summary>The in-memory edit: finds .gnu.version_r and flags the matching requirements.</summary>
        public static WeakVersionResult Mark(byte[] elf, string version, string source)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException($"{source}: not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException($"{source}: only 64-bit little-endian ELF is supported (class {elf[4]}, data {elf[5]})");
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the ELF patch runs on little-endian hosts only");
            long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            bool found = false, patched = false;
            for (int i = 0; i < shnum; i++)
            {
                int sh = checked((int)(shoff + (long)i * shentsize));
                if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
                int offset = checked((int)BitConverter.ToUInt64(elf, sh + 0x18));
                int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
                int count = (int)BitConverter.ToUInt32(elf, sh + 0x2C);
                int strtab = checked((int)(shoff + (long)link * shentsize));
                int strings = checked((int)BitConverter.ToUInt64(elf, strtab + 0x18));

                // Elf64_Verneed: vn_version, vn_cnt (u16), vn_file, vn_aux, vn_next (u32), offsets relative to the entry.
                // Elf64_Vernaux: vna_hash (u32), vna_flags, vna_other (u16), vna_name, vna_next (u32).
                int need = offset;
                for (int n = 0; n < count; n++)
                {
                    int auxCount = BitConverter.ToUInt16(elf, need + 2);
                    int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        int name = strings + (int)BitConverter.ToUInt32(elf, aux + 8);
                        if (ReadString(elf, name) == version)
                        {
                            found = true;
                            ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                            if ((flags & VerFlgWeak) == 0)
                            {
                                byte[] weak = BitConverter.GetBytes((ushort)(flags | VerFlgWeak));
                                elf[aux + 4] = weak[0];
                                elf[aux + 5] = weak[1];
                                patched = true;
                            }
                        }
                        aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                    }
                    need += (int)BitConverter.ToUInt32(elf, need + 12);
                }
            }
            return patched ? WeakVersionResult.Patched : found ? WeakVersionResult.AlreadyWeak : WeakVersionResult.NotRequired;
        }

        private static string ReadString(byte[] bytes, int start)
        {
            int end = Array.IndexOf(bytes, (byte)0, start);
            return Encoding.ASCII.GetString(bytes, start, (end < 0 ? bytes.Length : end) - start);
        }
    }

#if !CMM_ELF_TESTS
    /// <summary>The build step: patches each given library in place, idempotently; a missing file is an error.</summary>
    public sealed class MarkVersionWeak : Task
    {
        [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();
        [Required] public string Version { get; set; } = "";

        public override bool Execute()
        {
            foreach (var library in Libraries)
            {
                var result = WeakVersionNeed.Apply(library.ItemSpec, Version);
                if (result == WeakVersionResult.Patched)
                    Log.LogMessage(MessageImportance.High, $"marked {Version} weak in {library.ItemSpec} (Debian 12's libstdc++ lacks it; PLATFORM.md)");
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
