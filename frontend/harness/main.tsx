import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import "../styles/voice.css";
import "./harness.css";
import { HarnessApp } from "./App";

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing");
createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <HarnessApp />
    </BrowserRouter>
  </StrictMode>,
);
