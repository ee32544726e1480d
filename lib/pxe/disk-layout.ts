/**
 * A machine's disk layout (GPT), its validation, and the sfdisk script the installer runs.
 * sfdisk (util-linux) reads the script; the render tier feeds it to the real sfdisk on a
 * sparse image file.
 */
import { type Violation, violation } from "../validation/violations";

/** Firmware a machine boots with. */
export type Firmware = "bios" | "uefi";

/** The known firmware kinds. */
export const FIRMWARES: readonly Firmware[] = ["bios", "uefi"];

/** What a partition is for; decides its GPT type GUID. */
export type PartitionType = "efi" | "bios-boot" | "linux" | "swap";

/** A filesystem the installer can make. `none` leaves the partition unformatted. */
export type Filesystem = "vfat" | "ext4" | "xfs" | "btrfs" | "swap" | "none";

/** GPT partition type GUIDs (UEFI spec and the Discoverable Partitions Specification). */
export const GPT_TYPE_GUIDS: Readonly<Record<PartitionType, string>> = {
  efi: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
  "bios-boot": "21686148-6449-6E6F-744E-656564454649",
  linux: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
  swap: "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
};

/** One GPT partition, in disk order. */
export interface Partition {
  /** GPT partition name (PARTLABEL), unique on the disk: `root`, `efi`. */
  readonly label: string;
  /** What the partition is for. */
  readonly type: PartitionType;
  /**
   * Size in MiB.
   * @default the rest of the disk (allowed for the last partition only)
   */
  readonly sizeMiB?: number;
  /** Filesystem to create. */
  readonly filesystem: Filesystem;
  /** Where the installed system mounts it (`/`, `/boot/efi`); omitted for swap and bios-boot. */
  readonly mountpoint?: string;
}

/** The whole disk the installer wipes and partitions. */
export interface DiskLayout {
  /** The block device, e.g. `/dev/sda`, `/dev/vda`, `/dev/nvme0n1`. */
  readonly device: string;
  /** Partitions in disk order. */
  readonly partitions: readonly Partition[];
}

/**
 * The layout gentoo-infra uses when a machine names none: a boot partition for its
 * firmware (a 512 MiB EFI system partition at `/efi`, or a 1 MiB BIOS boot partition for
 * GRUB on GPT), 2 GiB swap, and an ext4 root filling the rest of `device`.
 */
export function defaultDiskLayout(firmware: Firmware, device: string): DiskLayout {
  const boot: Partition =
    firmware === "uefi"
      ? { label: "efi", type: "efi", sizeMiB: 512, filesystem: "vfat", mountpoint: "/efi" }
      : { label: "bios-boot", type: "bios-boot", sizeMiB: 1, filesystem: "none" };
  return {
    device,
    partitions: [
      boot,
      { label: "swap", type: "swap", sizeMiB: 2048, filesystem: "swap" },
      { label: "root", type: "linux", filesystem: "ext4", mountpoint: "/" },
    ],
  };
}

const DEVICE = /^\/dev\/[a-z][a-z0-9/_-]*$/;
const LABEL = /^[A-Za-z0-9_-]{1,36}$/;
const MOUNTPOINT = /^\/([A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)?$/;
const FILESYSTEMS: readonly Filesystem[] = ["vfat", "ext4", "xfs", "btrfs", "swap", "none"];
const TYPES = Object.keys(GPT_TYPE_GUIDS) as PartitionType[];

/**
 * Checks a disk layout for a machine booting with `firmware`. `at` is the argument path of
 * the layout in the caller's input (`machines[2].disk`). Returns every violation.
 */
export function validateDiskLayout(
  layout: DiskLayout,
  firmware: Firmware,
  at: string,
): Violation[] {
  const out: Violation[] = [];
  if (typeof layout.device !== "string" || !DEVICE.test(layout.device)) {
    out.push(
      violation(`${at}.device`, layout.device, "is not a block device path", "use e.g. /dev/sda"),
    );
  }
  const parts = layout.partitions ?? [];
  if (parts.length === 0) {
    out.push(violation(`${at}.partitions`, parts, "is empty", "list at least a root partition"));
    return out;
  }
  const labels = new Map<string, number>();
  const mounts = new Map<string, number>();
  parts.forEach((p, i) => {
    const here = `${at}.partitions[${i}]`;
    if (!LABEL.test(p.label ?? "")) {
      out.push(
        violation(
          `${here}.label`,
          p.label,
          "is not a GPT partition name gentoo-infra accepts",
          "use 1 to 36 letters, digits, '_' or '-'",
        ),
      );
    } else if (labels.has(p.label)) {
      out.push(
        violation(
          `${here}.label`,
          p.label,
          `duplicates ${at}.partitions[${labels.get(p.label)}].label`,
          "give each partition its own label",
        ),
      );
    } else labels.set(p.label, i);
    if (!TYPES.includes(p.type)) {
      out.push(
        violation(
          `${here}.type`,
          p.type,
          "is not a partition type",
          `use one of ${TYPES.join(", ")}`,
        ),
      );
    }
    if (!FILESYSTEMS.includes(p.filesystem)) {
      out.push(
        violation(
          `${here}.filesystem`,
          p.filesystem,
          "is not a filesystem",
          `use one of ${FILESYSTEMS.join(", ")}`,
        ),
      );
    }
    if (p.sizeMiB === undefined) {
      if (i !== parts.length - 1) {
        out.push(
          violation(
            `${here}.sizeMiB`,
            p.sizeMiB,
            "is missing on a partition that is not the last",
            "give a size in MiB; only the last partition may fill the rest of the disk",
          ),
        );
      }
    } else if (!Number.isInteger(p.sizeMiB) || p.sizeMiB < 1) {
      out.push(
        violation(
          `${here}.sizeMiB`,
          p.sizeMiB,
          "is not a positive whole number",
          "give a size in MiB, e.g. 512",
        ),
      );
    }
    const needsMount = p.filesystem !== "swap" && p.filesystem !== "none";
    if (needsMount && p.mountpoint === undefined) {
      out.push(
        violation(
          `${here}.mountpoint`,
          p.mountpoint,
          `is missing for a ${p.filesystem} filesystem`,
          "give an absolute path, e.g. /var",
        ),
      );
    } else if (!needsMount && p.mountpoint !== undefined) {
      out.push(
        violation(
          `${here}.mountpoint`,
          p.mountpoint,
          `is set on a partition with filesystem ${p.filesystem}`,
          "remove the mountpoint, or choose a filesystem",
        ),
      );
    } else if (p.mountpoint !== undefined) {
      if (!MOUNTPOINT.test(p.mountpoint)) {
        out.push(
          violation(`${here}.mountpoint`, p.mountpoint, "is not an absolute path", "use e.g. /var"),
        );
      } else if (mounts.has(p.mountpoint)) {
        out.push(
          violation(
            `${here}.mountpoint`,
            p.mountpoint,
            `duplicates ${at}.partitions[${mounts.get(p.mountpoint)}].mountpoint`,
            "mount each path once",
          ),
        );
      } else mounts.set(p.mountpoint, i);
    }
    if (p.type === "efi" && p.filesystem !== "vfat") {
      out.push(
        violation(
          `${here}.filesystem`,
          p.filesystem,
          "is not vfat on an EFI system partition",
          "use vfat",
        ),
      );
    }
    if (p.type === "swap" && p.filesystem !== "swap") {
      out.push(
        violation(
          `${here}.filesystem`,
          p.filesystem,
          "is not swap on a swap partition",
          "use swap",
        ),
      );
    }
    if (p.type === "bios-boot" && p.filesystem !== "none") {
      out.push(
        violation(
          `${here}.filesystem`,
          p.filesystem,
          "is set on a BIOS boot partition",
          "use none",
        ),
      );
    }
  });
  if (!mounts.has("/")) {
    out.push(
      violation(
        `${at}.partitions`,
        parts.map((p) => p.label),
        "has no root partition",
        "mount one partition at /",
      ),
    );
  }
  const boot: PartitionType = firmware === "uefi" ? "efi" : "bios-boot";
  const bootCount = parts.filter((p) => p.type === boot).length;
  if (bootCount !== 1) {
    out.push(
      violation(
        `${at}.partitions`,
        parts.map((p) => p.label),
        `has ${bootCount} ${boot} partitions for ${firmware} firmware`,
        `add exactly one partition of type ${boot}`,
      ),
    );
  }
  return out;
}

/**
 * Renders the sfdisk script that creates `layout` on its device: a GPT label, then one line
 * per partition with its name, type GUID and size (`size=` omitted for the last partition
 * when it fills the disk). Partitions start 1 MiB aligned (sfdisk's default).
 */
export function renderSfdiskScript(layout: DiskLayout): string {
  const lines = ["label: gpt", `device: ${layout.device}`, ""];
  for (const p of layout.partitions) {
    const fields = [
      p.sizeMiB === undefined ? undefined : `size=${p.sizeMiB}MiB`,
      `type=${GPT_TYPE_GUIDS[p.type]}`,
      `name="${p.label}"`,
    ].filter((f) => f !== undefined);
    lines.push(fields.join(", "));
  }
  return `${lines.join("\n")}\n`;
}
