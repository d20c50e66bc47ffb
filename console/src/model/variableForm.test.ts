import { describe, expect, it } from 'vitest';

import { displayValue, editVariableForm, newVariableForm, variableFormProblems, variableRequest } from './variableForm';

describe('the variable form', () => {
  it('never holds a secret’s stored value, and needs a new one to save', () => {
    const form = editVariableForm({ name: 'SHOP_TOKEN', value: '********', secret: true });
    expect(form.value).toBe('');
    expect(form.wasSecret).toBe(true);
    expect(displayValue({ name: 'SHOP_TOKEN', value: '********', secret: true })).toBe('');
    expect(variableFormProblems(form).value).toMatch(/type the new value/);
    form.value = 'tok-2';
    expect(variableFormProblems(form)).toEqual({});
    expect(variableRequest(form)).toEqual({ name: 'SHOP_TOKEN', value: 'tok-2', secret: true });
  });

  it('refuses the API’s mask as a secret value', () => {
    const form = { ...newVariableForm(), name: 'X', value: '********', secret: true };
    expect(variableFormProblems(form).value).toMatch(/what the API shows/);
  });

  it('shows a plain value, and can turn it into a secret', () => {
    const form = editVariableForm({ name: 'SHOP_URL', value: 'https://shop.example', secret: false });
    expect(form.value).toBe('https://shop.example');
    form.secret = true;
    expect(variableFormProblems(form)).toEqual({});
    expect(variableRequest(form)).toEqual({ name: 'SHOP_URL', value: 'https://shop.example', secret: true });
  });

  it('checks a new name as config-api does', () => {
    const form = newVariableForm();
    expect(variableFormProblems(form).name).toBe('Give the variable a name.');
    for (const bad of ['1ST', 'a-b', 'has space', 'ü']) expect(variableFormProblems({ ...form, name: bad }).name).toMatch(/starts with a letter/);
    for (const good of ['_x', 'SHOP_TOKEN', 'a1']) expect(variableFormProblems({ ...form, name: good })).toEqual({});
    expect(variableRequest({ ...form, name: ' API_KEY ', value: 'v' })).toEqual({ name: 'API_KEY', value: 'v', secret: false });
  });
});
