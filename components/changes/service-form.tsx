"use client";
import { useState } from "react";
import {
  PROTOCOLS,
  SCHED_FLAGS,
  SCHEDULERS,
  formatServiceKey,
  type SchedFlag,
  type Scheduler,
  type ServiceRule,
} from "@/server/ipvs/model";
import { changeSchema, type ChangeInput } from "@/server/ipvs/planner";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, Field, Input, Select } from "@/components/ui/input";
import { fieldErrors, parseWhole } from "./form-utils";

type Kind = (typeof PROTOCOLS)[number] | "fwm";

/** Add a virtual service, or edit one (the key stays; scheduler, persistence and flags change). */
export function ServiceFormDialog({
  existing,
  onOpenChange,
  onSubmit,
}: {
  existing?: ServiceRule;
  onOpenChange: (open: boolean) => void;
  onSubmit: (change: ChangeInput) => void;
}) {
  const key = existing?.key;
  const [kind, setKind] = useState<Kind>(key?.kind ?? "tcp");
  const [address, setAddress] = useState(key && key.kind !== "fwm" ? key.address : "");
  const [port, setPort] = useState(key && key.kind !== "fwm" ? String(key.port) : "");
  const [mark, setMark] = useState(key?.kind === "fwm" ? String(key.mark) : "");
  const [scheduler, setScheduler] = useState<Scheduler>(existing?.scheduler ?? "wlc");
  const [persistent, setPersistent] = useState(Boolean(existing?.persistence));
  const [timeout, setTimeoutText] = useState(
    existing?.persistence ? String(existing.persistence.timeout) : "300",
  );
  const [ops, setOps] = useState(existing?.ops ?? false);
  const [flags, setFlags] = useState<SchedFlag[]>(existing?.schedFlags ?? []);
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const touch = (k: string) => setTouched((t) => ({ ...t, [k]: true }));

  const serviceKey =
    kind === "fwm"
      ? {
          kind,
          mark: parseWhole(mark),
          family: key?.kind === "fwm" ? key.family : ("inet" as const),
        }
      : { kind, address, port: parseWhole(port) };
  const rule = {
    key: serviceKey,
    scheduler,
    persistence: persistent
      ? { timeout: parseWhole(timeout), netmask: existing?.persistence?.netmask ?? null }
      : null,
    ops,
    schedFlags: flags,
    pe: existing?.pe ?? null,
  };
  const change: ChangeInput = existing
    ? { kind: "editService", service: rule }
    : { kind: "addService", service: rule, realservers: [] };
  const parsed = changeSchema.safeParse(change);
  const errors = fieldErrors(parsed.error, ["service"]);
  const show = (k: string) => (touched[k] ? (errors[k] ?? null) : null);
  const known = new Set([
    "key.address",
    "key.port",
    "key.mark",
    "scheduler",
    "persistence.timeout",
  ]);
  const other = Object.entries(errors).filter(([k]) => !known.has(k));

  return (
    <Dialog
      open
      onOpenChange={onOpenChange}
      title={existing ? `Edit ${formatServiceKey(existing.key)}` : "Add virtual service"}
      footer={
        <>
          <Button variant="outline" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" form="service-form" disabled={!parsed.success}>
            Review commands
          </Button>
        </>
      }
    >
      <form
        id="service-form"
        noValidate
        className="grid grid-cols-4 gap-x-3"
        onSubmit={(e) => {
          e.preventDefault();
          if (parsed.success) onSubmit(change);
        }}
      >
        <Field label="Protocol">
          {(p) => (
            <Select
              {...p}
              name="protocol"
              data-autofocus
              disabled={Boolean(existing)}
              value={kind}
              onChange={(e) => setKind(e.target.value as Kind)}
            >
              {PROTOCOLS.map((x) => (
                <option key={x} value={x}>
                  {x.toUpperCase()}
                </option>
              ))}
              <option value="fwm">FWM (firewall mark)</option>
            </Select>
          )}
        </Field>
        {kind === "fwm" ? (
          <Field label="Mark" error={show("key.mark")} className="col-span-3">
            {(p) => (
              <Input
                {...p}
                name="mark"
                inputMode="numeric"
                disabled={Boolean(existing)}
                value={mark}
                onChange={(e) => {
                  setMark(e.target.value);
                  touch("key.mark");
                }}
              />
            )}
          </Field>
        ) : (
          <>
            <Field label="Virtual IP" error={show("key.address")} className="col-span-2">
              {(p) => (
                <Input
                  {...p}
                  name="address"
                  disabled={Boolean(existing)}
                  value={address}
                  onChange={(e) => {
                    setAddress(e.target.value);
                    touch("key.address");
                  }}
                  placeholder="203.0.113.10"
                />
              )}
            </Field>
            <Field label="Port" error={show("key.port")}>
              {(p) => (
                <Input
                  {...p}
                  name="port"
                  inputMode="numeric"
                  disabled={Boolean(existing)}
                  value={port}
                  onChange={(e) => {
                    setPort(e.target.value);
                    touch("key.port");
                  }}
                />
              )}
            </Field>
          </>
        )}
        <Field label="Scheduler" error={show("scheduler")}>
          {(p) => (
            <Select
              {...p}
              name="scheduler"
              value={scheduler}
              onChange={(e) => {
                setScheduler(e.target.value as Scheduler);
                touch("scheduler");
              }}
            >
              {SCHEDULERS.map((x) => (
                <option key={x} value={x}>
                  {x}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <div className="col-span-1 flex flex-col justify-center gap-1 pb-4 text-xs">
          <label className="flex items-center gap-1.5">
            <Checkbox
              name="persistent"
              checked={persistent}
              onChange={(e) => {
                setPersistent(e.currentTarget.checked);
                touch("persistence.timeout");
              }}
            />
            persistent (-p)
          </label>
          <label className="flex items-center gap-1.5">
            <Checkbox name="ops" checked={ops} onChange={(e) => setOps(e.currentTarget.checked)} />
            one-packet (-o)
          </label>
        </div>
        <Field
          label="Persistence timeout (s)"
          error={persistent ? show("persistence.timeout") : null}
          className="col-span-2"
        >
          {(p) => (
            <Input
              {...p}
              name="timeout"
              inputMode="numeric"
              disabled={!persistent}
              value={timeout}
              onChange={(e) => {
                setTimeoutText(e.target.value);
                touch("persistence.timeout");
              }}
            />
          )}
        </Field>
        <fieldset className="col-span-4 flex flex-wrap gap-3 text-xs">
          <legend className="mb-1 font-medium text-muted-foreground">Scheduler flags (-b)</legend>
          {SCHED_FLAGS.map((f) => (
            <label key={f} className="flex items-center gap-1.5">
              <Checkbox
                checked={flags.includes(f)}
                onChange={(e) => {
                  const on = e.currentTarget.checked;
                  setFlags((xs) => (on ? [...xs, f] : xs.filter((x) => x !== f)));
                  touch("schedFlags");
                }}
              />
              {f}
            </label>
          ))}
        </fieldset>
        {other.length > 0 && Object.keys(touched).length > 0 && (
          <ul className="col-span-4 mt-2 text-xs text-danger" role="alert">
            {other.map(([k, m]) => (
              <li key={k}>{m}</li>
            ))}
          </ul>
        )}
      </form>
    </Dialog>
  );
}
