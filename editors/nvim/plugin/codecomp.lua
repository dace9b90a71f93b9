-- User commands; nothing starts until require("codecomp").setup() is called.
if vim.g.loaded_codecomp then
  return
end
vim.g.loaded_codecomp = true

vim.api.nvim_create_user_command("CodecompToggle", function()
  local on = require("codecomp").toggle()
  vim.notify("codecomp ghost text " .. (on and "on" or "off"))
end, { desc = "codecomp: toggle automatic ghost text" })

vim.api.nvim_create_user_command("CodecompStats", function(opts)
  local params = opts.bang and { reset = true } or nil
  require("codecomp").stats(function(err, result)
    if err then
      vim.notify("codecomp/stats: " .. tostring(err.message), vim.log.levels.ERROR)
    else
      vim.notify(vim.inspect(result))
    end
  end, params)
end, { bang = true, desc = "codecomp: show server statistics (! resets them)" })

vim.api.nvim_create_user_command("CodecompPull", function(opts)
  require("codecomp").pull(opts.args ~= "" and opts.args or nil)
end, {
  nargs = "?",
  complete = function(arglead)
    return require("codecomp").model_names(arglead)
  end,
  desc = "codecomp: pull a catalog model (default: the recommended one), with progress",
})
