"use client";
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage } from "@/components/errors";
import { useTRPC } from "@/components/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/input";

export function LoginForm({ next }: { next: string }) {
  const trpc = useTRPC();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState<{ name?: string; password?: string }>({});
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      // A full load, so every cached query is refetched as the signed-in user.
      onSuccess: () => window.location.assign(next),
      onSettled: () => setPassword(""),
    }),
  );

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const empty = {
      ...(name.trim() === "" ? { name: "Enter your user name" } : {}),
      ...(password === "" ? { password: "Enter your password" } : {}),
    };
    setMissing(empty);
    if (empty.name || empty.password) return;
    login.mutate({ name: name.trim(), password });
  }

  return (
    <form onSubmit={submit} className="flex flex-col gap-2" aria-label="Sign in" noValidate>
      {login.isError && (
        <Alert>
          <p>{errorMessage(login.error)}</p>
        </Alert>
      )}
      <Field label="User name" error={missing.name}>
        {(ids) => (
          <Input
            {...ids}
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            autoFocus
            value={name}
            onChange={(e) => setName(e.target.value)}
            className="h-8"
          />
        )}
      </Field>
      <Field label="Password" error={missing.password}>
        {(ids) => (
          <Input
            {...ids}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            className="h-8"
          />
        )}
      </Field>
      <Button type="submit" disabled={login.isPending || login.isSuccess}>
        {login.isPending || login.isSuccess ? "Signing in…" : "Sign in"}
      </Button>
    </form>
  );
}
