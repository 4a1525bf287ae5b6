import { describe, expect, it } from "vitest";
import { holdLease, type HeldLease, type Leases } from "../src/core/lease-holder.ts";
import { waitFor } from "./support/wait-for.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** One lease, held by whoever asked first until released or lost; `log` says what happened in order. */
function fakeLeases() {
  const log: string[] = [];
  let holder: string | undefined;
  let lose: (() => void) | undefined;
  const leasesFor = (who: string): Leases => ({
    async tryLease(): Promise<HeldLease | undefined> {
      if (holder) return undefined;
      holder = who;
      log.push(`${who} took`);
      const lost = new Promise<void>((resolve) => (lose = resolve));
      const release = async () => {
        log.push(`${who} released`);
        if (holder === who) holder = undefined;
      };
      return { lost, release };
    },
  });
  return {
    log,
    leasesFor,
    get holder() {
      return holder;
    },
    takeBy: (who: string | undefined) => void (holder = who),
    /** The holder's lease is lost, and `other` has it now (Postgres freed the lock and another took it). */
    loseTo: (other: string) => {
      holder = other;
      lose?.();
    },
  };
}

describe("holding a lease", () => {
  it("starts what it is for when held, ends it before giving the lease back, and takes it again when free", async () => {
    const leases = fakeLeases();
    const held = holdLease({
      leases: leases.leasesFor("me"),
      name: "x",
      logger: silent,
      retryMs: 10,
      onHeld: async () => void leases.log.push("started"),
      onLost: async () => void leases.log.push("ended"),
    });
    await held.started;
    expect(held.state()).toBe("held");

    // Lost (the database connection went) and taken by another: standby until it is free again.
    leases.loseTo("other");
    await waitFor(() => leases.log.includes("me released") && held.state() === "standby", { what: "the holder to stand by" });
    leases.takeBy(undefined);
    await waitFor(() => held.state() === "held", { what: "the lease taken again" });
    await held.stop();
    expect(leases.log).toEqual(["me took", "started", "ended", "me released", "me took", "started", "ended", "me released"]);
  });

  it("a first start that fails rejects `started`, gives the lease back and asks no more", async () => {
    const leases = fakeLeases();
    const held = holdLease({ leases: leases.leasesFor("me"), name: "x", logger: silent, retryMs: 10, onHeld: () => Promise.reject(new Error("no login")), onLost: async () => {} });
    await expect(held.started).rejects.toThrow("no login");
    expect(leases.holder).toBeUndefined();
    await held.stop();
    expect(leases.log).toEqual(["me took", "me released"]);
  });

  it("stands by at once while another holds it", async () => {
    const leases = fakeLeases();
    leases.takeBy("other");
    const held = holdLease({ leases: leases.leasesFor("me"), name: "x", logger: silent, retryMs: 10, onHeld: async () => {}, onLost: async () => {} });
    await held.started;
    expect(held.state()).toBe("standby");
    await held.stop();
  });
});
