// export: the trained student as a Hugging Face folder or GGUF files, with an Ollama Modelfile.
#include "config/cli.h"
#include "student/export.h"

int main(int argc, char** argv) {
  using namespace af::config;
  return run_main("export", [&] {
    ToolCli cli(Tool::Export, "export",
                "Write the trained student where other runtimes load it: a merged Hugging Face folder\n"
                "(--format hf), one GGUF file (--format gguf, --gguf-type f32|bf16|f16|q8_0), or the base\n"
                "as GGUF plus the adapter as a llama.cpp LoRA GGUF (--format gguf-lora); each with an\n"
                "Ollama Modelfile and a README holding the commands that run it.");
    if (auto code = cli.parse(argc, argv)) return *code;
    Resolved cfg = cli.resolve_for_run();
    const af::student::ExportSettings s = af::student::export_settings(cfg);
    if (cli.dry_run()) return cli.print_dry_run(cfg, s.to_json());
    af::student::run_export(s);
    return 0;
  });
}
