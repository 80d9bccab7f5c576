"""What the tests share: local servers, people made as people make them, factories, one `wait_for`.

Test modules import from here and never from one another. Modules that define fixtures are
registered as pytest plugins by the root conftest, so every folder sees the same fixtures.
"""
