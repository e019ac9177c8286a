import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { App } from "./App";
import { SessionProvider } from "./lib/session";
import { StepUpProvider } from "./lib/stepUp";
import "./styles.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <SessionProvider>
        <StepUpProvider>
          <App />
        </StepUpProvider>
      </SessionProvider>
    </BrowserRouter>
  </StrictMode>,
);
