export * from "./file-push";
export * from "./push-plan";
export * from "./pushed-files";
export * from "./server";
export * from "./shell";
export * from "./ssh-exec";
export * from "./validate";
