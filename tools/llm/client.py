"""Every LLM call goes through here, and through litellm: one typed, validated answer per call.

    llm = Llm("local/smollm2-135m-instruct")          # or "openai/gpt-4o-mini", ...
    answer = llm.ask("plan", prompt, ExperimentProposal)
    answer.value       # a validated ExperimentProposal, or None after the retries
    answer.errors      # why each failed attempt failed (shown in the trace)
    answer.tokens      # prompt + completion tokens, counted against the budget

An answer that is not valid JSON for the schema is retried once with the validation error
appended; an exception from the provider (refusal, network, rate limit) ends the attempts.
The caller decides what replaces a None (the planner falls back to the search policy).

    llm.check()        # one tiny schema-constrained request: raises LlmError naming the
                       # model, the URL and the provider's message when it gets no answer
    llm.calls          # every ask since the last drain: (name, ok, error), for the trace
    llm.disabled = "…" # why it is not used: ask() then answers None at once, asking nothing

Keys: $MAGNET_API_KEY when set, else the provider's own variable (litellm reads it). A local
OpenAI-compatible server (`openai/NAME` + api_base: Ollama, vLLM, llama.cpp) needs none, but
the OpenAI client refuses to send a request without one: a placeholder goes instead.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pydantic import BaseModel, ValidationError

from magnet.tools.errors import LlmError, first_problem

DEFAULT_MODEL = "local/smollm2-135m-instruct"
PLACEHOLDER_KEY = "no-key"  # what a keyless local server receives as its API key
RETRIES = 1
SYSTEM = "You are MAGNET's research planner. Answer with JSON that matches the schema."


class Ping(BaseModel):
    """The preflight's answer: any valid JSON object of this shape will do."""

    ok: bool


@dataclass
class Call:
    """One ask, as the trace shows it."""

    name: str
    ok: bool
    error: str = ""


@dataclass
class Answer:
    value: BaseModel | None
    attempts: int = 0
    tokens: int = 0
    errors: list[str] = field(default_factory=list)


class Llm:
    def __init__(
        self, model: str | None = None, api_base: str | None = None, max_tokens: int = 512
    ) -> None:
        self.model = model or os.environ.get("MAGNET_MODEL") or DEFAULT_MODEL
        self.api_base, self.max_tokens = api_base, max_tokens
        self.calls: list[Call] = []
        self.disabled: str | None = None

    def check(self) -> None:
        """Raise LlmError unless the model answers one tiny request with schema-valid JSON."""
        answer = self._ask("preflight", 'Reply with the JSON object {"ok": true}.', Ping, 0, 16)
        if answer.value is None:
            where = f" at {self.api_base}" if self.api_base else ""
            problem = answer.errors[-1].removeprefix("preflight: ") if answer.errors else "?"
            raise LlmError(
                f"the LLM {self.model}{where} gave no usable answer to a test request: {problem}"
            )

    def drain(self) -> list[Call]:
        """The calls made since the last drain."""
        calls, self.calls = self.calls, []
        return calls

    def ask(
        self,
        name: str,
        prompt: str,
        schema: type[BaseModel],
        system: str = SYSTEM,
        temperature: float = 0.2,
        max_tokens: int | None = None,
    ) -> Answer:
        """`name` labels the call in traces; `schema` is both the response format and the
        validator. Generation asks for more tokens and a higher temperature than planning."""
        if self.disabled:
            return Answer(value=None, errors=[f"{name}: LLM not used ({self.disabled})"])
        answer = self._ask(name, prompt, schema, temperature, max_tokens, system)
        self.calls.append(Call(name, answer.value is not None, "; ".join(answer.errors)))
        return answer

    def _ask(self, name, prompt, schema, temperature, max_tokens, system=SYSTEM) -> Answer:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        options = {"temperature": temperature, "max_tokens": max_tokens or self.max_tokens}
        answer = Answer(value=None)
        for _ in range(1 + RETRIES):
            answer.attempts += 1
            try:
                response = self._complete(messages, schema, **options)
            except Exception as e:  # litellm maps every provider failure to its own types
                answer.errors.append(f"{name}: {type(e).__name__}: {str(e)[:200]}")
                return answer
            usage = getattr(response, "usage", None)
            answer.tokens += getattr(usage, "total_tokens", 0) or 0
            content = response.choices[0].message.content or ""
            try:
                answer.value = schema.model_validate_json(content)
                return answer
            except ValidationError as e:
                problem = first_problem(e, "answer")
                answer.errors.append(f"{name}: invalid answer ({problem})")
                messages += [
                    {"role": "assistant", "content": content},
                    {
                        "role": "user",
                        "content": f"That answer is invalid: {problem}. "
                        "Reply again with corrected JSON only.",
                    },
                ]
        return answer

    def _complete(self, messages: list[dict], schema: type[BaseModel], **options):
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch at import
        import litellm

        litellm.suppress_debug_info = True  # its "Give Feedback" banner is not our output
        if self.model.startswith("local/"):
            from magnet.tools.llm.local import register

            register()
        return litellm.completion(
            model=self.model,
            messages=messages,
            response_format=schema,
            api_base=self.api_base,
            api_key=self._api_key(),
            **options,
        )

    def _api_key(self) -> str | None:
        """The key to send (never logged): see the module docstring."""
        if os.environ.get("MAGNET_API_KEY"):
            return os.environ["MAGNET_API_KEY"]
        keyless = self.api_base and self.model.startswith("openai/")
        return PLACEHOLDER_KEY if keyless and not os.environ.get("OPENAI_API_KEY") else None
