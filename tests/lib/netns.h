/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * End-to-end test harness: network namespaces and veth pairs the test makes and removes, link
 * counters read over rtnetlink, commands run inside a namespace, and the agent started there.
 *
 * Both ends of the veth pair live in namespaces of their own: nothing a test sends can reach
 * an interface it did not create, and no routing table but the namespace's (empty) one ever
 * sees it. Commands are run in a namespace with setns(CLONE_NEWNET) only, not `ip netns exec`,
 * which remounts /sys and so would hide the bpffs the agent pins its maps in.
 */
#ifndef NSFLOW_TEST_NETNS_H
#define NSFLOW_TEST_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Every namespace and interface the tests make starts with this. */
#define NETNS_PREFIX "nse2e"

struct netns_pair {
	char ns_rx[32]; /* namespace of the metered end: the agent attaches there */
	char ns_tx[32]; /* namespace of the sending end */
	char rx[16];	/* veth in ns_rx */
	char tx[16];	/* its peer, in ns_tx */
	int rx_ifindex; /* in ns_rx */
	int tx_ifindex; /* in ns_tx */
	uint8_t rx_mac[6];
	uint8_t tx_mac[6];
};

/*
 * Makes two namespaces (IPv6 off so that the kernel itself sends nothing: no ND, no MLD) and a
 * veth pair between them, both ends up. Names are NETNS_PREFIX, the pid and a tag letter, so
 * that each test process has its own. Returns 0 or -errno, with a reason on stderr.
 */
int netns_pair_create(struct netns_pair *p, char tag);
/* Another veth between p's two namespaces, named and addressed after tag as netns_pair_create()
 * names its own; fills p's interface fields (keep a copy of the first pair's). 0 or -errno. */
int netns_veth_add(struct netns_pair *p, char tag);
/* Deletes both namespaces, and with them the veth pair and whatever was attached to it. */
void netns_pair_destroy(struct netns_pair *p);
/* Deletes namespaces named NETNS_PREFIX<pid>* whose process is gone (a test that crashed). */
void netns_cleanup_stale(void);
/* Removes a test's pin dir (/sys/fs/bpf/NETNS_PREFIX-*) and the pins in it; others are left. */
void netns_rm_pin_dir(const char *dir);

/* Moves the calling thread into namespace name; returns an fd of the one it left, or -errno. */
int netns_enter(const char *name);
/* Back into the namespace netns_enter() left; closes fd. */
void netns_leave(int fd);

struct netns_link {
	uint64_t rx_packets; /* veth: every frame its NAPI took off the ring (XDP ran on each) */
	uint64_t rx_bytes;
	uint64_t rx_dropped; /* veth: includes frames the peer could not put on the ring */
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_dropped;
	uint8_t xdp_attached; /* XDP_ATTACHED_NONE / DRV / SKB / HW / MULTI */
	uint32_t xdp_prog_id;
};

/* Counters and XDP state of ifname in namespace ns, over rtnetlink. 0 or -errno. */
int netns_link_get(const char *ns, const char *ifname, struct netns_link *l);

/*
 * Runs argv in namespace ns (NULL: this one), stdout and stderr to log (NULL: /dev/null; "-":
 * inherited). The child gets SIGTERM when the calling thread dies. Returns the pid or -errno.
 */
pid_t netns_spawn(const char *ns, const char *log, char *const argv[]);
/* Waits for pid at most timeout_ms; returns its exit code, 128 + signal, or -ETIMEDOUT. */
int netns_wait(pid_t pid, int timeout_ms);
/* Runs a shell command line in namespace ns (NULL: this one) and returns its exit code (as
 * netns_wait() does). With out, stdout and stderr come back in *out, NUL-terminated, to free. */
int netns_sh(const char *ns, char **out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sends count copies of a frame out of ifname in namespace ns through a packet socket.
 * Returns how many the kernel took, or -errno. */
long netns_send_frames(const char *ns, const char *ifname, const void *frame, size_t len,
		       uint64_t count);

/* GET @path from 127.0.0.1:@port in namespace ns (HTTP/1.0), at most 10 s: the whole answer,
 * headers included, NUL terminated, to free; NULL when nothing answers. */
char *netns_http_get(const char *ns, int port, const char *path);
/* The same with another method (HEAD, POST: a request without a body). */
char *netns_http(const char *ns, int port, const char *method, const char *path);
/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t netns_now_ms(void);

/*
 * The agent, `nsflow run`, started in a namespace.
 */
struct netns_agent {
	pid_t pid;
	char log[128]; /* its stdout and stderr */
	/*
	 * How `nsflow show`/`reset` reach it (words added to each request). Left empty, the agent
	 * gets a control socket of its own (--control-socket /tmp/nse2e-PID-N.sock), so that tests
	 * never meet each other's or a running agent's; a test may set "-p PIN_DIR" instead.
	 */
	char ctl[192];
	char sock[108]; /* that socket ("" when ctl was given) */
};

/* The agent's binary: $NSFLOW_BIN, else build/nsflow (tests run from the top directory). */
const char *nsflow_bin(void);

/*
 * Holds an exclusive lock that end-to-end tests and benchmarks take around anything that starts
 * an agent: one test's agents at a time on the machine (they measure traffic and time). Waits
 * at most timeout_ms. Returns the lock's fd or -errno.
 */
int nsflow_e2e_lock(int timeout_ms);
void nsflow_e2e_unlock(int fd);

/*
 * Starts `nsflow run ARGS...` (args NULL-terminated, without "run") in namespace ns and waits
 * until its control socket answers, at most timeout_ms. Returns 0, or -errno with the agent's
 * log on stderr (and the agent stopped).
 */
int netns_agent_start(struct netns_agent *a, const char *ns, int timeout_ms,
		      const char *const args[]);
/* Sends sig and waits at most timeout_ms; returns the exit code, 128 + signal, or -ETIMEDOUT
 * (the agent then gets SIGKILL). */
int netns_agent_stop(struct netns_agent *a, int sig, int timeout_ms);
/* Prints the agent's log on stderr (after a failed assertion). */
void netns_agent_dump_log(const struct netns_agent *a);

/* `nsflow WORDS` (show ..., reset ...) to agent a: its exit code; with out, its output in *out,
 * to free. */
int nsflow_ctl(const struct netns_agent *a, char **out, const char *words);
/* Does agent a answer on its control socket? */
bool nsflow_ctl_alive(const struct netns_agent *a);

#endif
