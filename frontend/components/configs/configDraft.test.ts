// @vitest-environment node
import { describe, expect, it } from "vitest";
import { config } from "../../test/fixtures";
import { buildConfigJson, draftFromConfig, emptyCriterion, emptyQuestion, normalizedWeights, normalizeFieldPath, previewPlanFromDraft } from "./configDraft";

describe("config drafts", () => {
  it("round-trips a stored configuration", () => {
    const stored = config();
    const draft = draftFromConfig(stored);
    expect(draft.questions.map((q) => [q.id, q.followUpEnabled])).toEqual([
      ["q1", true],
      ["q2", false],
    ]);
    expect(draft.criteria.map((c) => [c.name, c.weight, c.description])).toEqual([
      ["communication", "", ""],
      ["technical_depth", "0.75", "Depth"],
    ]);
    const { configJson, errors } = buildConfigJson(draft);
    expect(errors).toEqual({});
    expect(configJson).toEqual(stored.configJson);
  });

  it("leaves empty fields out, trims text and parses numbers", () => {
    const draft = draftFromConfig(null);
    draft.botName = "  Grace ";
    draft.voiceSpeed = "1.5";
    draft.llmMaxTokens = "800";
    draft.questions = [{ ...emptyQuestion(0), text: " Why? " }];
    draft.criteria = [
      { ...emptyCriterion(), name: "communication", weight: "1" },
      { ...emptyCriterion(), name: "depth", weight: "3" },
    ];
    const { configJson, errors } = buildConfigJson(draft);
    expect(errors).toEqual({});
    expect(configJson).toEqual({
      bot_name: "Grace",
      voice: { speed: 1.5 },
      llm: { max_tokens: 800 },
      interview: {
        questions: [{ id: "q1", text: "Why?" }],
        scoring_rubric: {
          criteria: [
            { name: "communication", weight: 1 },
            { name: "depth", weight: 3 },
          ],
        },
      },
    });
    expect(buildConfigJson(draftFromConfig(null)).configJson).toEqual({});
  });

  it("reports numbers that are not numbers under the API's field names", () => {
    const draft = draftFromConfig(null);
    draft.llmTemperature = "warm";
    draft.maxFollowUps = "1.5";
    draft.criteria = [{ ...emptyCriterion(), name: "a", weight: "x" }];
    expect(buildConfigJson(draft).errors).toEqual({
      "configJson.llm.temperature": "must be a number",
      "configJson.interview.maxFollowUps": "must be a whole number",
      "configJson.interview.scoringRubric.criteria[0].weight": "must be a number",
    });
  });

  it("maps the API's field paths onto the form's", () => {
    expect(normalizeFieldPath("configJson.interview.scoringRubric.criteria[1].criterion.weight")).toBe("configJson.interview.scoringRubric.criteria[1].weight");
    expect(normalizeFieldPath("configJson.llm.base_url")).toBe("configJson.llm.baseUrl");
    expect(normalizeFieldPath("configJson.interview.questions[0].follow_up_enabled")).toBe("configJson.interview.questions[0].followUpEnabled");
  });

  it("previews relative weights as shares", () => {
    const rows = [
      { ...emptyCriterion(), weight: "1" },
      { ...emptyCriterion(), weight: "3" },
    ];
    expect(normalizedWeights(rows)).toEqual([0.25, 0.75]);
    expect(normalizedWeights([rows[0]!, { ...emptyCriterion(), weight: "" }])).toEqual([null, null]);
  });

  it("plans a voice preview from the form's voice and opening message", () => {
    const draft = draftFromConfig(config());
    draft.voiceModel = " sonic-3.6 ";
    draft.initialMessage = "  Hi  there. ";
    expect(previewPlanFromDraft("org-1", draft)).toEqual({
      ok: true,
      provider: "cartesia",
      textTruncated: false,
      request: { orgId: "org-1", voice: { provider: "cartesia", voiceId: "sonic-english", speed: 1, model: "sonic-3.6" }, text: "Hi there." },
    });
    // piper: no model, the default voice when none is given, no text without an opening message
    const piper = { ...draftFromConfig(null), voiceProvider: "piper" as const, voiceModel: "ignored" };
    expect(previewPlanFromDraft("org-1", piper)).toMatchObject({ ok: true, request: { orgId: "org-1", voice: { provider: "piper" } } });
    expect(previewPlanFromDraft("org-1", piper)).not.toHaveProperty("request.text");
  });

  it("says why a voice cannot be previewed", () => {
    const base = draftFromConfig(null);
    const reason = (patch: Partial<typeof base>) => {
      const plan = previewPlanFromDraft("org-1", { ...base, ...patch });
      return plan.ok ? null : plan.reason;
    };
    expect(reason({ voiceProvider: "kokoro", voiceId: "af_heart" })).toMatch(/^Kokoro voices cannot be previewed/);
    expect(reason({ voiceProvider: "" })).toMatch(/Cartesia voice id/); // the default provider is cartesia
    expect(reason({ voiceProvider: "cartesia", voiceId: "  " })).toMatch(/Cartesia voice id/);
    expect(reason({ voiceProvider: "piper", voiceModelPath: "/models/x.onnx" })).toMatch(/model path cannot be previewed/);
    expect(reason({ voiceProvider: "piper", voiceSpeed: "fast" })).toMatch(/speed must be a number/);
    expect(reason({ voiceProvider: "piper", voiceSpeed: "1.1" })).toBeNull();
  });
});
