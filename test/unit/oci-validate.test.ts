// config.json validation: every problem is reported, each with its JSON path.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ValidationError } from '../../src/common/errors.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { validateProcess, validateSpec } from '../../src/runtime/validate.js';
import { fakeHost } from './fake-host.js';
import { specProblems as problems } from './spec-problems.js';

describe('config.json validation', () => {
  test('the default spec is valid', () => {
    assert.deepEqual(problems(() => {}), []);
  });

  test('every problem is listed with its path', () => {
    const p = problems((s) => {
      s.process.cwd = 'rel';
      s.process.capabilities.bounding.push('CAP_NOPE');
      s.process.rlimits.push({ type: 'RLIMIT_BOGUS', soft: 2, hard: 1 });
      s.linux.namespaces.push({ type: 'pid' });
      s.mounts[1].destination = 'dev';
      s.hooks = { poststop: [{ path: 'relative' }] };
    });
    assert.deepEqual(p, [
      'process.cwd: must be an absolute path, not "rel"',
      'process.capabilities.bounding[3]: unknown capability "CAP_NOPE"',
      'process.rlimits[1].type: unknown value "RLIMIT_BOGUS" (one of RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME)',
      'process.rlimits[1]: soft limit 2 is above hard limit 1',
      'mounts[1].destination: must be an absolute path, not "dev"',
      'hooks.poststop[0].path: must be an absolute path, not "relative"',
      'linux.namespaces[5].type: namespace "pid" is listed twice',
    ]);
  });

  test('what this host cannot do is named', () => {
    const p = problems((s) => {
      s.process.apparmorProfile = 'docker-default';
      s.process.selinuxLabel = 'system_u:system_r:container_t:s0';
      s.process.oomScoreAdj = -500;
      s.process.rlimits[0].hard = 2000000;
    }, fakeHost({ capEff: 0n, hardRlimits: { RLIMIT_NOFILE: 1048576 } }));
    assert.ok(p.some((x) => x.startsWith('process.apparmorProfile: AppArmor is not enabled')));
    assert.ok(p.some((x) => x.startsWith('process.selinuxLabel: SELinux is not enabled')));
    assert.ok(p.some((x) => x.startsWith('process.oomScoreAdj: a negative value needs CAP_SYS_RESOURCE')));
    assert.ok(p.some((x) => x.startsWith('process.rlimits[0].hard: 2000000 is above')));
  });

  test('user namespaces need mappings; hostnames need a uts namespace; net sysctls a network namespace', () => {
    const p = problems((s) => {
      s.linux.namespaces = [{ type: 'user' }, { type: 'mount' }];
      s.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'vm.swappiness': '1' };
    });
    assert.ok(p.includes('linux.uidMappings: is required with a new user namespace'));
    assert.ok(p.includes('hostname: setting the hostname would change the host\'s: linux.namespaces has no uts namespace (list a new uts namespace, or join the container\'s by path)'));
    assert.ok(p.includes('linux.sysctl["net.ipv4.ip_forward"]: would change the host\'s: linux.namespaces has no network namespace (list a new network namespace, or join the container\'s by path)'));
    assert.ok(p.some((x) => x.startsWith('linux.sysctl["vm.swappiness"]: is not namespaced')));
  });

  test('seccomp and resources problems carry their paths', () => {
    const p = problems((s) => {
      s.linux.seccomp = { defaultAction: 'SCMP_ACT_NOPE', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 9, value: 1, op: 'SCMP_CMP_EQ' }] }] };
      s.linux.resources = { memory: { limit: 'lots' }, unified: { 'memory.max': '1' } };
    });
    assert.ok(p.includes('linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"'));
    assert.ok(p.some((x) => x.startsWith('linux.seccomp.syscalls[0].args[0].index')));
    assert.ok(p.includes('linux.resources.memory.limit: must be an integer'));
    assert.ok(p.some((x) => x.startsWith('linux.resources.unified: this host uses cgroup v1')));
  });
});

describe('config.json validation: every field kind', () => {
  test('not an object, or missing the required parts', () => {
    assert.throws(() => validateSpec([], fakeHost()), /\$: must be an object/);
    assert.throws(() => validateSpec({}, fakeHost()), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.deepEqual(err.problems.map((p) => `${p.path}: ${p.message}`),
        ['ociVersion: is required', 'root: is required', 'process: is required']);
      return true;
    });
  });

  test('ociVersion is SemVer 2.0.0 and 1.x', () => {
    assert.deepEqual(problems((s) => { s.ociVersion = '1.0'; }), ['ociVersion: "1.0" is not a SemVer 2.0.0 version']);
    assert.deepEqual(problems((s) => { s.ociVersion = '2.0.0'; }), ['ociVersion: version 2.0.0 is not supported (this runtime implements 1.x)']);
    assert.deepEqual(problems((s) => { s.ociVersion = '1.2.1-rc.1+dev'; }), []);
  });

  test('process fields', () => {
    const p = problems((s) => {
      s.process.user = { uid: -1, gid: 'x', umask: 0o1000, additionalGids: [1, 'two'], username: 'root' };
      s.process.args = [];
      s.process.env = ['NOEQUALS'];
      s.process.commandLine = 'sh';
      s.process.terminal = 'yes';
      s.process.consoleSize = { height: 10 };
      s.process.ioPriority = { class: 'IOPRIO_CLASS_NONE', priority: 9 };
      s.process.scheduler = { policy: 'SCHED_ISO', nice: 40, flags: ['SCHED_FLAG_NOPE'] };
      s.process.execCPUAffinity = { initial: '0' };
      s.process.oomScoreAdj = 5000;
      s.process.noNewPrivileges = 1;
    });
    assert.deepEqual(p, [
      'process.terminal: must be true or false',
      'process.consoleSize.width: is required',
      'process.user.uid: must be between 0 and 4294967294, not -1',
      'process.user.gid: must be an integer',
      'process.user.umask: must be between 0 and 511, not 512',
      'process.user.additionalGids[1]: must be an integer',
      'process.user.username: is for Windows containers; on Linux give user.uid and user.gid',
      'process.args: must name the program to run',
      'process.commandLine: is for Windows containers',
      'process.env[0]: "NOEQUALS" is not KEY=VALUE',
      'process.noNewPrivileges: must be true or false',
      'process.oomScoreAdj: must be between -1000 and 1000, not 5000',
      'process.ioPriority.class: unknown value "IOPRIO_CLASS_NONE" (one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE)',
      'process.ioPriority.priority: must be between 0 and 7, not 9',
      'process.scheduler.policy: SCHED_ISO is not implemented by Linux',
      'process.scheduler.nice: must be between -20 and 19, not 40',
      'process.scheduler.flags[0]: unknown value "SCHED_FLAG_NOPE" (one of SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM, SCHED_FLAG_DL_OVERRUN, SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_KEEP_PARAMS, SCHED_FLAG_UTIL_CLAMP_MIN, SCHED_FLAG_UTIL_CLAMP_MAX)',
      'process.execCPUAffinity: is not supported by skiff-runtime',
    ]);
  });

  test('capabilities this kernel does not know, rlimits twice, RLIM_INFINITY accepted', () => {
    const p = problems((s) => {
      s.process.capabilities.effective.push('CAP_BPF');
      s.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 });
    }, fakeHost({ capLastCap: 37 }));
    assert.deepEqual(p, [
      'process.capabilities.effective[3]: CAP_BPF is not known to this kernel (cap_last_cap 37)',
      'process.rlimits[1].type: RLIMIT_NOFILE is set twice',
    ]);
  });

  test('mounts: options this runtime cannot honour are named one by one; type or bind source required', () => {
    const p = problems((s) => {
      s.mounts.push(
        { destination: '/a', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'size=1m', 'rro'] },
        { destination: '/b', source: '/srv/b', options: ['rbind', 'idmap'] },
        { destination: '/c', source: 'c' },
        { destination: '/d', options: ['bind'] },
        { destination: '/e', source: '/srv/e', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] },
      );
    });
    assert.deepEqual(p, [
      'mounts[7].options[0]: option "tmpcopyup" (copy the image\'s content into the new tmpfs) is not supported by skiff-runtime',
      'mounts[7].options[2]: recursive mount attribute "rro" (mount_setattr(2) AT_RECURSIVE) is not supported by skiff-init',
      'mounts[8].options[1]: option "idmap" (an idmapped mount, mount_setattr(2) MOUNT_ATTR_IDMAP) is not supported by skiff-init',
      'mounts[9].type: is required unless options contain "bind" or "rbind"',
      'mounts[10].source: is required for a bind mount',
      'mounts[11].uidMappings: idmapped mounts (mount_setattr(2) MOUNT_ATTR_IDMAP) are not supported by skiff-init',
    ]);
    assert.deepEqual(problems((s) => { s.mounts.push({ destination: '/e', source: '/e', options: ['bind'], gidMappings: [] }); },
      fakeHost({ idmappedMounts: false, kernel: '5.10.0' })), ['mounts[7].gidMappings: idmapped mounts need Linux 5.12 or later; this kernel is 5.10.0']);
  });

  test('mounts: bind sources may be relative to the bundle', () => {
    assert.deepEqual(problems((s) => { s.mounts.push({ destination: '/cfg', source: 'conf', options: ['rbind', 'ro'] }); }), []);
  });

  test('mounts inside /proc: only runc\'s list of files (lxcfs); /proc itself only as proc', () => {
    const p = problems((s) => {
      s.mounts[0].type = 'tmpfs';
      s.mounts.push({ destination: '/proc/meminfo', source: '/var/lib/lxcfs/proc/meminfo', options: ['bind'] },
        { destination: '/proc/sys/kernel/../kernel/core_pattern', source: '/tmp/x', options: ['bind'] });
    });
    assert.deepEqual(p.map((x) => x.split(' where ')[0]), [
      'mounts[0].type: only a proc filesystem can be mounted on /proc',
      'mounts[8].destination: /proc/sys/kernel/core_pattern is inside /proc,',
    ]);
  });

  test('namespaces: unknown, relative path, time without kernel support, offsets without a new time namespace', () => {
    const p = problems((s) => {
      s.linux.namespaces.push({ type: 'nope' }, { type: 'time', path: 'rel' });
      s.linux.timeOffsets = { monotonic: { secs: 1, nanosecs: 2e9 }, realtime: { secs: 1 } };
    }, fakeHost({ timeNamespace: false, kernel: '5.4.0' }));
    assert.deepEqual(p, [
      'linux.namespaces[5].type: unknown value "nope" (one of pid, network, mount, ipc, uts, user, cgroup, time)',
      'linux.namespaces[6].path: must be an absolute path, not "rel"',
      'linux.namespaces[6].type: time namespaces are not supported by this kernel (5.4.0: no /proc/self/ns/time)',
      'linux.timeOffsets: needs a new time namespace in linux.namespaces',
      'linux.timeOffsets.monotonic.nanosecs: must be between 0 and 999999999, not 2000000000',
      'linux.timeOffsets.realtime: only monotonic and boottime clocks can be offset',
    ]);
  });

  test('id mappings: valid entries; none without a user namespace; for a joined one, only its own (as runc)', () => {
    assert.deepEqual(problems((s) => { s.linux.uidMappings = [{ containerID: 0, hostID: 1000 }]; }), [
      'linux.uidMappings: id mappings need a new user namespace in linux.namespaces',
      'linux.uidMappings[0].size: is required',
    ]);
    // containerd and CRI-O send the joined namespace's maps along with its path.
    const own = (file: string) => readFileSync(`/proc/self/${file}`, 'utf8').trim().split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number)).map(([containerID, hostID, size]) => ({ containerID, hostID, size }));
    assert.deepEqual(problems((s) => {
      s.linux.namespaces.push({ type: 'user', path: '/proc/self/ns/user' });
      s.linux.uidMappings = own('uid_map');
      s.linux.gidMappings = own('gid_map');
    }), []);
    const gids = JSON.stringify(own('gid_map').map((m) => [m.containerID, m.hostID, m.size]));
    assert.deepEqual(problems((s) => {
      s.linux.namespaces.push({ type: 'user', path: '/proc/self/ns/user' });
      s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }), [`linux.gidMappings: [[0,1000,1]] differ from the maps of the user namespace joined at /proc/self/ns/user (${gids}), which cannot change; leave them out or make them equal`]);
    assert.deepEqual(problems((s) => {
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 65536 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 65536 }];
    }), []);
  });

  test('devices, cgroupsPath, propagation, masked paths, personality, things this host lacks', () => {
    const p = problems((s) => {
      s.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }, { path: '/dev/fuse', type: 'x' },
        { path: '/dev/p', type: 'p' }];
      s.linux.cgroupsPath = 'system.slice:skiff:c1';
      s.linux.rootfsPropagation = 'sideways';
      s.linux.maskedPaths.push('proc/x');
      s.linux.personality = { domain: 'LINUX64' };
      s.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
      s.linux.intelRdt = { closID: 'x' };
      s.linux.netDevices = { eth1: {} };
    });
    assert.deepEqual(p, [
      'linux.devices[1].path: /dev/fuse is listed twice',
      'linux.devices[1].type: unknown value "x" (one of c, b, u, p)',
      'linux.devices[1].major: is required',
      'linux.devices[1].minor: is required',
      'linux.cgroupsPath: "system.slice:skiff:c1" is a systemd slice path; the systemd cgroup driver is not supported (use a cgroupfs path such as /skiff/ID)',
      'linux.rootfsPropagation: unknown propagation "sideways"',
      'linux.maskedPaths[10]: must be an absolute path, not "proc/x"',
      'linux.mountLabel: SELinux is not enabled on this host (no /sys/fs/selinux)',
      'linux.intelRdt: Intel RDT (resctrl) is not supported by skiff-runtime',
      'linux.netDevices: moving host network devices into the container is not supported by skiff-runtime',
      'linux.personality.domain: unknown value "LINUX64" (one of LINUX, LINUX32)',
    ]);
    assert.deepEqual(problems((s) => { s.linux.cgroupsPath = '/skiff/../../escape'; }),
      ['linux.cgroupsPath: "/skiff/../../escape" must not contain ".." (it would leave the cgroup hierarchy it names)']);
  });

  test('an enabled LSM is still refused: skiff-init cannot apply its labels', () => {
    assert.deepEqual(problems((s) => { s.process.apparmorProfile = 'docker-default'; }, fakeHost({ apparmor: true })),
      ['process.apparmorProfile: applying AppArmor labels is not supported by skiff-runtime']);
    assert.deepEqual(problems((s) => { s.process.apparmorProfile = ''; s.process.selinuxLabel = ''; }), []);
  });

  test('hooks: kinds, absolute paths, positive timeouts, string args', () => {
    const p = problems((s) => {
      s.hooks = { prestart: [{ path: '/bin/a', timeout: 0 }], poststart: [{ path: '/bin/b', args: [1] }], onCreate: [] };
    });
    assert.deepEqual(p, [
      'hooks.prestart[0].timeout: must be at least 1, not 0',
      'hooks.poststart[0].args[0]: must be a string',
      'hooks.onCreate: unknown hook kind (one of prestart, createRuntime, createContainer, startContainer, poststart, poststop)',
    ]);
  });

  test('validateProcess checks an exec process the same way', () => {
    assert.throws(() => validateProcess({ user: { uid: 0, gid: 0 }, args: ['sh'], cwd: 'x' }, 'process.json', fakeHost(), { userNamespace: false }),
      /process.json: process.cwd: must be an absolute path, not "x"/);
    assert.equal(validateProcess({ user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' }, 'process.json', fakeHost(), { userNamespace: false }).cwd, '/');
  });
});

describe('namespaces joined or inherited', () => {
  const mountIndex = (s: Record<string, any>) => s.linux.namespaces.findIndex((n: { type: string }) => n.type === 'mount');
  const MOUNT_NS = 'add {"type": "mount"} to linux.namespaces';

  test('without a mount namespace: every field that needs a mount is refused, naming it; the rest is valid', () => {
    const host = 'would be made in the host\'s mount namespace (linux.namespaces has no mount namespace), where it would outlive the container';
    assert.deepEqual(problems((s) => {
      s.linux.namespaces.splice(mountIndex(s), 1);
      s.mounts = s.mounts.slice(0, 2);
      s.linux.rootfsPropagation = 'rslave';
      s.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }];
    }), [
      `mounts: each mount ${host}; ${MOUNT_NS}`,
      `root.readonly: a read-only root is a read-only bind mount of root.path, which ${host}; ${MOUNT_NS} or set it to false`,
      `linux.maskedPaths: each path is covered by a mount, which ${host}; ${MOUNT_NS}`,
      `linux.readonlyPaths: each path is covered by a mount, which ${host}; ${MOUNT_NS}`,
      `linux.rootfsPropagation: would change the propagation of the host's / (linux.namespaces has no mount namespace); ${MOUNT_NS}`,
      `linux.devices: device nodes are made in the /dev the container mounts, and without a mount namespace nothing is mounted; ${MOUNT_NS}`,
    ]);
    assert.deepEqual(problems((s) => {
      s.linux.namespaces.splice(mountIndex(s), 1);
      s.mounts = [];
      s.root.readonly = false;
      s.linux.maskedPaths = [];
      s.linux.readonlyPaths = [];
    }), []);
    assert.deepEqual(problems((s) => {
      delete s.linux;
      s.mounts = [];
      s.root.readonly = false;
      delete s.hostname;
    }), [], 'no linux object at all: the runtime\'s namespaces');
  });

  test('a mount namespace joined by path is valid, but not from a new user namespace', () => {
    assert.deepEqual(problems((s) => { s.linux.namespaces[mountIndex(s)].path = '/proc/1/ns/mnt'; }), []);
    assert.deepEqual(problems((s) => {
      s.linux.namespaces[mountIndex(s)].path = '/proc/1/ns/mnt';
      s.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
    }), []);
    const p = problems((s) => {
      s.linux.namespaces[mountIndex(s)].path = '/proc/1/ns/mnt';
      s.linux.namespaces.push({ type: 'user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 65536 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 65536 }];
    });
    assert.equal(p.length, 1);
    assert.match(p[0], /^linux\.namespaces\[\d\]\.path: the root filesystem cannot be set up in a joined mount namespace from a new user namespace/);
  });

  test('hostname and domainname: in a new or joined uts namespace; not without one, nor in the runtime\'s own', () => {
    const uts = (s: Record<string, any>) => s.linux.namespaces.findIndex((n: { type: string }) => n.type === 'uts');
    const joined = '/run/skiff-test-not-a-namespace/uts';
    assert.deepEqual(problems((s) => { s.linux.namespaces[uts(s)].path = joined; s.domainname = 'example.org'; }), []);
    assert.deepEqual(problems((s) => { s.linux.namespaces.splice(uts(s), 1); s.domainname = 'example.org'; }), [
      'hostname: setting the hostname would change the host\'s: linux.namespaces has no uts namespace (list a new uts namespace, or join the container\'s by path)',
      'domainname: setting the domainname would change the host\'s: linux.namespaces has no uts namespace (list a new uts namespace, or join the container\'s by path)',
    ]);
    const own = problems((s) => { s.linux.namespaces[uts(s)].path = '/proc/self/ns/uts'; });
    assert.deepEqual(own, [`hostname: setting the hostname would change the host's: linux.namespaces[${uts(defaultSpec())}] joins the runtime's own uts namespace (/proc/self/ns/uts) (list a new uts namespace, or join the container's by path)`]);
  });

  test('sysctls in joined namespaces are the container\'s; in the runtime\'s own they would be the host\'s', () => {
    assert.deepEqual(problems((s) => {
      s.linux.namespaces = s.linux.namespaces.map((n: { type: string }) =>
        (n.type === 'network' || n.type === 'ipc' ? { ...n, path: `/run/skiff-test-not-a-namespace/${n.type}` } : n));
      s.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1' };
    }), []);
    assert.deepEqual(problems((s) => {
      s.linux.namespaces = s.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { ...n, path: '/proc/self/ns/net' } : n));
      s.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }).map((p) => p.replace(/\[\d\]/, '[i]')), [
      'linux.sysctl["net.ipv4.ip_forward"]: would change the host\'s: linux.namespaces[i] joins the runtime\'s own network namespace (/proc/self/ns/net) (list a new network namespace, or join the container\'s by path)',
    ]);
  });
});

test('sysctls: each must belong to a namespace the container owns', () => {
  assert.deepEqual(problems((s) => {
    s.linux.sysctl = { 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '2', 'net.core.somaxconn': '3', 'kernel.domainname': 'x',
      'kernel.pid_max': '4', 'net/../../x': '5', 'kernel.sem': 6 };
    s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts');
    delete s.hostname;
  }), [
    'linux.sysctl["kernel.domainname"]: would change the host\'s: linux.namespaces has no uts namespace (list a new uts namespace, or join the container\'s by path)',
    'linux.sysctl["kernel.pid_max"]: is not namespaced: it would change the host',
    'linux.sysctl["net/../../x"]: is not a sysctl name',
    'linux.sysctl["kernel.sem"]: must be a string',
  ]);
});
