/**
 * The ipvsadm commands that turn one set of rules into another (the runtime part of "make
 * B like A", and "restore saved rules"): from diffRules' changes, in its order (services in
 * the wanted order, removals last), one command per service or member however many of its
 * fields differ. `-e` and `-E` repeat every attribute (commands.ts), so an edit never
 * resets what it does not mean to change.
 *
 * Pure: both rule sets come from the caller.
 */
import {
  addRealserver,
  addService,
  deleteRealserver,
  deleteService,
  editRealserver,
  editService,
} from "./commands";
import { formatEndpoint, formatServiceKey, sameEndpoint, sameServiceKey } from "./model";
import { diffRules, type RuleChange } from "./rule-diff";
import type { ServiceWithRealservers } from "./rules";

export interface SyncCommands {
  /** What differs, from `current` to `wanted`, in the operator's words. */
  changes: RuleChange[];
  argv: string[][];
}

export function syncCommands(
  current: readonly ServiceWithRealservers[],
  wanted: readonly ServiceWithRealservers[],
): SyncCommands {
  const changes = diffRules(current, wanted);
  const argv: string[][] = [];
  const done = new Set<string>();
  const once = (id: string, build: () => string[]) => {
    if (done.has(id)) return;
    done.add(id);
    argv.push(build());
  };
  const wantedService = (c: RuleChange) => {
    const s = wanted.find((w) => sameServiceKey(w.key, c.service));
    if (!s) throw new Error(`internal: ${formatServiceKey(c.service)} is not wanted`);
    return s;
  };
  const wantedMember = (c: RuleChange & { realserver: { address: string; port: number } }) => {
    const rs = wantedService(c).realservers.find((r) => sameEndpoint(r, c.realserver));
    if (!rs) throw new Error(`internal: ${formatEndpoint(c.realserver)} is not wanted`);
    return rs;
  };
  for (const c of changes) {
    const svc = formatServiceKey(c.service);
    switch (c.kind) {
      case "serviceAdded":
        once(`A ${svc}`, () => addService(wantedService(c)));
        break;
      case "serviceEdited":
        once(`E ${svc}`, () => editService(wantedService(c)));
        break;
      case "serviceRemoved":
        once(`D ${svc}`, () => deleteService(c.service));
        break;
      case "realserverAdded":
        once(`a ${svc} ${formatEndpoint(c.realserver)}`, () =>
          addRealserver(c.service, wantedMember(c)),
        );
        break;
      case "realserverEdited":
        once(`e ${svc} ${formatEndpoint(c.realserver)}`, () =>
          editRealserver(c.service, wantedMember(c)),
        );
        break;
      case "realserverRemoved":
        once(`d ${svc} ${formatEndpoint(c.realserver)}`, () =>
          deleteRealserver(c.service, c.realserver),
        );
        break;
    }
  }
  return { changes, argv };
}
