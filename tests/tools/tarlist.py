# tarlist.py TAR — one line per entry of a tar (sorted): path, type, mode, uid:gid,
# size, link target, sha256 of the content, xattrs (PAX SCHILY.xattr.*), so that the
# rootfs two engines export from one image can be compared line by line. Entries
# under dev/ proc/ sys/ and the engine's own /etc/hostname, hosts, resolv.conf and
# .containerenv/.dockerenv are left out (each engine makes its own).
import hashlib, sys, tarfile

SKIP_TOP = ("dev", "proc", "sys", "run")
SKIP = {"etc/hostname", "etc/hosts", "etc/resolv.conf", ".containerenv", ".dockerenv", "etc", ""}
rows = []
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        name = m.name.lstrip("./").rstrip("/")
        if name in SKIP or name.split("/")[0] in SKIP_TOP:
            continue
        kind = {tarfile.REGTYPE: "f", tarfile.AREGTYPE: "f", tarfile.DIRTYPE: "d", tarfile.SYMTYPE: "l",
                tarfile.LNKTYPE: "h", tarfile.FIFOTYPE: "p", tarfile.CHRTYPE: "c", tarfile.BLKTYPE: "b"}.get(m.type, "?")
        digest = ""
        if m.isfile():
            digest = hashlib.sha256(t.extractfile(m).read()).hexdigest()[:16]
        link = m.linkname.lstrip("./") if m.islnk() else m.linkname
        xattrs = ",".join(sorted(f"{k[len('SCHILY.xattr.'):]}={v}" for k, v in m.pax_headers.items()
                                 if k.startswith("SCHILY.xattr.") and not k.startswith("SCHILY.xattr.security.selinux")))
        dev = f"{m.devmajor}:{m.devminor}" if m.ischr() or m.isblk() else ""
        rows.append(f"{name} {kind} {m.mode & 0o7777:o} {m.uid}:{m.gid} {m.size if m.isfile() else 0} {link} {digest} {dev} {xattrs}")
print("\n".join(sorted(rows)))
